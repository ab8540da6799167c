"""The console over HTTP: login, sessions, CSRF, headers, who sees what, and what each
page shows of the figures (a store filled through the store's own write API)."""

from __future__ import annotations

import re

import aiohttp
import pytest
import structlog
from aiohttp import web

from gateway.console.app import CSP, guard
from gateway.console.context import CONSOLE
from gateway.web import LocalServer
from tests.support.console import (
    PASSWORD,
    STP_USER,
    SUPERVISOR,
    client,
    console_reading,
    log_in,
    login_token,
    running_console,
    store_before_figures,
)

DAY = "from=2026-11-23&to=2026-11-23"


@pytest.fixture
async def running(tmp_path):
    async with running_console(tmp_path) as running:
        yield running


async def page(session, path: str) -> tuple[int, str]:
    async with session.get(path, allow_redirects=False) as answer:
        return answer.status, await answer.text()


# -- login and sessions -------------------------------------------------------------------


async def test_a_supervisor_logs_in_and_gets_an_httponly_strict_session_cookie(running):
    async with client(running.url) as session:
        answer = await log_in(session)

    assert answer.status == 303 and answer.headers["Location"] == "/"
    cookie = answer.cookies["motcua_phien"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"


async def test_a_page_without_a_session_is_401_with_the_login_form(running):
    async with client(running.url) as session:
        status, body = await page(session, "/thu-tuc")

    assert status == 401
    assert 'action="/dang-nhap"' in body and 'value="/thu-tuc"' in body
    assert "1.001" not in body


async def test_a_forged_session_cookie_is_401_saying_the_session_is_not_valid(running):
    async with client(running.url) as session:
        session.cookie_jar.update_cookies({"motcua_phien": "A" * 43})
        status, body = await page(session, "/")

    assert status == 401
    assert "hết hạn hoặc không hợp lệ" in body and "Sở Công Thương" not in body


async def test_a_session_past_its_lifetime_is_401_and_asks_to_log_in_again(running):
    async with client(running.url) as session:
        await log_in(session)
        assert (await page(session, "/"))[0] == 200
        running.clock.now += running.console.settings.session_minutes * 60

        status, body = await page(session, "/")

    assert status == 401 and "mời đăng nhập lại" in body


async def test_a_wrong_password_is_401_in_vietnamese_with_no_session(running):
    async with client(running.url) as session:
        answer = await log_in(session, password="sai mật khẩu rồi")
        status, _ = await page(session, "/")

    assert answer.status == 401 and "motcua_phien" not in answer.cookies
    assert status == 401


async def test_a_login_without_its_csrf_token_is_403_and_logs_nobody_in(running):
    async with client(running.url) as session:
        form = {"next": "/", "user": SUPERVISOR.name, "password": PASSWORD}
        async with session.post("/dang-nhap", data=form, allow_redirects=False) as answer:
            body = await answer.text()

    assert answer.status == 403 and "motcua_phien" not in answer.cookies
    assert "Biểu mẫu đã hết hạn" in body


async def test_a_login_with_a_token_other_than_its_forms_is_403(running):
    async with client(running.url) as session:
        await login_token(session)
        form = {"csrf": "x" * 43, "next": "/", "user": SUPERVISOR.name, "password": PASSWORD}
        async with session.post("/dang-nhap", data=form, allow_redirects=False) as answer:
            await answer.read()

    assert answer.status == 403


async def test_a_login_form_with_a_field_of_its_own_is_400(running):
    async with client(running.url) as session:
        token = await login_token(session)
        form = {"csrf": token, "user": SUPERVISOR.name, "password": PASSWORD, "role": "x"}
        async with session.post("/dang-nhap", data=form, allow_redirects=False) as answer:
            body = await answer.text()

    assert answer.status == 400 and "không được hỗ trợ" in body


async def test_after_the_allowed_failures_even_the_right_password_waits(running):
    attempts = running.console.settings.login_attempts
    async with client(running.url) as session:
        for _ in range(attempts):
            assert (await log_in(session, password="sai mật khẩu rồi")).status == 401

        answer = await log_in(session)

    assert answer.status == 429 and "motcua_phien" not in answer.cookies


async def test_a_login_returns_to_the_page_that_asked_for_it_but_never_off_site(running):
    for wanted, landed in (("/thu-tuc?" + DAY, "/thu-tuc?" + DAY), ("//evil.example/", "/")):
        async with client(running.url) as session:
            token = await login_token(session)
            form = {"csrf": token, "next": wanted, "user": SUPERVISOR.name, "password": PASSWORD}
            async with session.post("/dang-nhap", data=form, allow_redirects=False) as answer:
                assert answer.headers["Location"] == landed


async def test_logout_needs_the_sessions_csrf_token_and_then_ends_the_session(running):
    async with client(running.url) as session:
        await log_in(session)
        _, body = await page(session, "/")
        token = re.search(r'action="/dang-xuat".*?name="csrf" value="([^"]+)"', body)[1]
        async with session.post("/dang-xuat", data={}, allow_redirects=False) as refused:
            await refused.read()
        assert refused.status == 403 and (await page(session, "/"))[0] == 200

        async with session.post(
            "/dang-xuat", data={"csrf": token}, allow_redirects=False
        ) as answer:
            await answer.read()
        status, _ = await page(session, "/")

    assert answer.status == 303 and status == 401


# -- headers and refusals --------------------------------------------------------------------


async def test_every_page_carries_the_security_headers_and_is_not_cached(running):
    async with client(running.url) as session:
        await log_in(session)
        for path in ("/", "/dang-nhap", "/thu-tuc?bad=1", "/no-such-page"):
            async with session.get(path, allow_redirects=False) as answer:
                headers = answer.headers
                assert headers["Content-Security-Policy"] == CSP
                assert "script-src" not in CSP and "frame-ancestors 'none'" in CSP
                assert headers["X-Frame-Options"] == "DENY"
                assert headers["X-Content-Type-Options"] == "nosniff"
                assert headers["Referrer-Policy"] == "no-referrer"
                assert headers["Cache-Control"] == "no-store"


async def test_no_page_holds_a_script(running):
    async with client(running.url) as session:
        await log_in(session)
        for path in ("/", "/thu-tuc", "/thong-bao-loi"):
            assert "<script" not in (await page(session, path))[1]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("?agancy=SCT", "Tham số không được hỗ trợ"),
        ("?from=2026-12-01&to=2026-11-01", "Ngày kết thúc đứng trước ngày bắt đầu"),
        ("?from=2020-01-01&to=2026-11-23", "Khoảng thời gian dài quá"),
        ("?from=23/11/2026", "không hợp lệ"),
        ("?sort=ratio", "Tham số không được hỗ trợ"),  # the overview does not sort
    ],
)
async def test_bad_parameters_are_400_in_vietnamese_without_a_traceback(running, query, said):
    async with client(running.url) as session:
        await log_in(session)
        status, body = await page(session, "/" + query)

    assert status == 400 and said in body
    assert "Traceback" not in body and "Error" not in body


async def test_an_unknown_page_is_404_in_vietnamese(running):
    async with client(running.url) as session:
        await log_in(session)
        status, body = await page(session, "/quan-tri")

    assert status == 404 and "Không có trang này" in body


async def test_a_store_the_daemon_has_not_upgraded_yet_is_503_saying_so(tmp_path):
    store_before_figures(tmp_path / "old.db")
    async with console_reading(tmp_path / "old.db") as running, client(running.url) as session:
        await log_in(session)
        status, body = await page(session, "/thu-tuc")

    assert status == 503
    assert "khởi động lại dịch vụ motcua-sms" in body and "Traceback" not in body


async def test_a_page_that_fails_is_a_500_page_without_a_traceback(running):
    async def failing(request: web.Request) -> web.StreamResponse:
        raise KeyError("what a page should never meet")

    routes = [web.get("/", failing)]
    state = {CONSOLE: running.console}
    async with (
        LocalServer(routes, middlewares=[guard], state=state) as listening,
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{listening.port}/") as answer,
    ):
        status, body, headers = answer.status, await answer.text(), answer.headers

    assert status == 500 and "Lỗi nội bộ" in body
    assert "KeyError" not in body and "Traceback" not in body
    assert headers["Content-Security-Policy"] == CSP


# -- who sees what ---------------------------------------------------------------------------


async def test_an_agency_user_sees_its_own_agency_only(running):
    async with client(running.url) as session:
        await log_in(session, STP_USER.name)
        status, body = await page(session, f"/thu-tuc?{DAY}")

    assert status == 200
    assert "2.001" in body and "1.001" not in body and "1.002" not in body


@pytest.mark.parametrize(
    "path",
    [
        f"/?{DAY}&agency=SCT",
        f"/thu-tuc?{DAY}&agency=SCT",
        f"/thong-bao-loi?{DAY}&agency=SCT",
        f"/xuat/thu-tuc.csv?{DAY}&agency=SCT",
        f"/xuat/thong-bao-loi.xlsx?{DAY}&agency=SCT",
    ],
)
async def test_an_agency_user_asking_for_another_agency_is_403_and_never_its_data(running, path):
    async with client(running.url) as session:
        await log_in(session, STP_USER.name)
        async with session.get(path, allow_redirects=False) as answer:
            body = await answer.read()

    assert answer.status == 403
    assert "cơ quan mình".encode() in body
    assert b"1.001" not in body and b"000002" not in body


async def test_a_name_that_is_no_users_is_not_logged_when_its_login_fails(running):
    with structlog.testing.capture_logs() as logs:
        async with client(running.url) as session:
            await log_in(session, user="0905123456", password="sai mật khẩu rồi")
            await log_in(session, password="sai mật khẩu rồi")

    failed = [e for e in logs if e["event"] == "console_login_failed"]
    assert [e["user"] for e in failed] == [None, SUPERVISOR.name]
    assert "0905123456" not in repr(logs)


async def test_the_stylesheet_is_served_by_the_console_and_may_be_cached(running):
    async with client(running.url) as session, session.get("/static/console.css") as answer:
        css = await answer.text()

    assert answer.status == 200 and answer.content_type == "text/css"
    assert "@media" in css and "http" not in css  # nothing fetched from elsewhere
    assert answer.headers["Cache-Control"] == "max-age=3600"


async def test_the_login_page_takes_no_parameter_but_next(running):
    async with client(running.url) as session:
        status, body = await page(session, "/dang-nhap?user=giamsat")

    assert status == 400 and "chỉ nhận tham số" in body


async def test_logging_out_by_get_is_405_in_vietnamese_and_logs_nobody_out(running):
    async with client(running.url) as session:
        await log_in(session)
        status, body = await page(session, "/dang-xuat")
        still, _ = await page(session, "/")

    assert status == 405 and "không nhận cách gửi" in body
    assert still == 200


async def test_a_page_number_in_superscript_digits_is_a_400_not_a_500(running):
    async with client(running.url) as session:
        await log_in(session)
        async with session.get(f"/thong-bao-loi?{DAY}&page=%C2%B2") as answer:
            status, text = answer.status, await answer.text()
    assert status == 400 and "Số trang" in text
