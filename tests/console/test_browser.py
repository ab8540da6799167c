"""The console in a real headless Chromium, over a store the daemon filled from dossier
events sent over MQTT and receipts from the simulator (tests/support/console_site.py):
log in, filter, the chart drawn from the figures, sorting, the failed notices, CSV and
XLSX exports read back, an agency user refused another agency, and the pages readable on
a phone. Screenshots of the main pages go to $MOTCUA_SMS_SCREENSHOTS (tests/support/
browser.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.support.browser import (
    PHONE,
    chromium,
    downloaded,
    log_in,
    screenshot,
    screenshots_dir,
    wait_for,
    wait_for_title,
)
from tests.support.console_site import (
    CHEMICALS,
    EXPECTED,
    PASSWORD,
    PERMIT,
    RECORD,
    STP_USER,
    SUPERVISOR,
    Site,
    console_site,
)

pytestmark = pytest.mark.slow


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(broker, tmp_path_factory) -> Site:
    async with console_site(broker.port, tmp_path_factory.mktemp("console-site")) as site:
        yield site


@pytest.fixture(scope="module")
def shots() -> Path:
    return screenshots_dir()


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    return tmp_path / "downloads"


@pytest.fixture
def desk(downloads: Path) -> Iterator[WebDriver]:
    with chromium(downloads) as driver:
        yield driver


def series(driver: WebDriver, agency: str, name: str) -> int:
    """The sum of the values of the chart's `name` marks for `agency`."""
    marks = driver.find_elements(
        By.CSS_SELECTOR, f'section[data-agency="{agency}"] svg [data-series="{name}"]'
    )
    assert marks, f"no {name} marks drawn for {agency}"
    assert all(m.is_displayed() for m in marks if m.tag_name == "rect")
    return sum(int(m.get_attribute("data-value")) for m in marks)


def table_rows(driver: WebDriver, table: str) -> list[dict[str, str]]:
    rows = []
    for tr in driver.find_elements(By.CSS_SELECTOR, f"#table-{table} tbody tr"):
        cells = tr.find_elements(By.CSS_SELECTOR, "td")
        rows.append({c.get_attribute("data-key"): c for c in cells})
    return rows


def filter_to(driver: WebDriver, site: Site, agency: str = "") -> None:
    """The period and agency through the filter form, as a person sets them."""
    for field, day in (("from", site.since), ("to", site.until)):
        element = driver.find_element(By.ID, field)
        driver.execute_script("arguments[0].value = arguments[1]", element, day.isoformat())
    Select(driver.find_element(By.ID, "agency")).select_by_value(agency)
    driver.find_element(By.ID, "apply").click()


def test_a_supervisor_logs_in_filters_and_sees_the_chart_drawn_from_the_figures(site, desk, shots):
    log_in(desk, site.url, SUPERVISOR, PASSWORD)
    filter_to(desk, site)
    wait_for(desk, 'section[data-agency="STP"] svg.chart')

    for agency, (resolved, delivered, _) in EXPECTED.items():
        assert series(desk, agency, "resolved") == resolved
        assert series(desk, agency, "delivered") == delivered
    share = desk.find_elements(
        By.CSS_SELECTOR, 'section[data-agency="SCT"] [data-series="failure-share"]'
    )
    assert [m.get_attribute("data-value") for m in share] == ["0.3333"]  # 2 of 6
    screenshot(desk, shots, "1-tong-quan")

    filter_to(desk, site, agency="STP")
    wait_for(desk, 'section[data-agency="STP"]')
    assert not desk.find_elements(By.CSS_SELECTOR, 'section[data-agency="SCT"]')


def test_the_procedure_table_sorts_and_marks_where_notices_fall_short(site, desk, shots):
    log_in(desk, site.url, SUPERVISOR, PASSWORD)
    desk.get(f"{site.url}/thu-tuc?{site.period()}")
    wait_for(desk, "#table-thu-tuc")
    desk.find_element(By.CSS_SELECTOR, 'th a[data-sort="ratio"]').click()
    wait_for(desk, 'th[aria-sort="ascending"] a[data-sort="ratio"]')

    rows = table_rows(desk, "thu-tuc")
    assert [r["procedure_code"].text for r in rows] == [RECORD[0], CHEMICALS[0], PERMIT[0]]
    zalo = desk.find_element(By.CSS_SELECTOR, 'th a[data-sort="zalo_delivered"]')
    assert zalo.text == "Thông báo đã đến qua Zalo"  # the channels' columns, by SMS: none
    assert [r["zalo_delivered"].text for r in rows] == ["0", "0", "0"]
    ratios = [r["ratio"] for r in rows]
    assert [r.text.split()[0] for r in ratios] == ["50,0", "60,0", "100,0"]
    assert ["short" in r.get_attribute("class") for r in ratios] == [True, True, False]
    screenshot(desk, shots, "2-theo-thu-tuc")


def test_the_failed_notices_show_receipts_masked_numbers_and_reasons(site, desk, shots):
    log_in(desk, site.url, SUPERVISOR, PASSWORD)
    desk.get(f"{site.url}/thong-bao-loi?{site.period()}")
    wait_for(desk, "#table-thong-bao-loi")

    rows = {r["receipt_no"].text: r for r in table_rows(desk, "thong-bao-loi")}
    assert set(rows) == {"0101700004", "0101700005", "0101700009"}
    assert rows["0101700004"]["reason"].text == "Nhà mạng không chuyển được tin"
    assert rows["0101700005"]["reason"].text == "Số máy bàn (không nhận được SMS)"
    assert rows["0101700009"]["reason"].text == "Số điện thoại không hợp lệ"
    assert "905000111" not in desk.page_source
    screenshot(desk, shots, "3-thong-bao-loi")


def test_the_procedure_table_exports_as_csv_and_xlsx_with_the_figures(site, desk, downloads):
    log_in(desk, site.url, SUPERVISOR, PASSWORD)
    desk.get(f"{site.url}/thu-tuc?{site.period()}")
    wait_for(desk, "#export-thu-tuc-csv").click()
    exported = downloaded(downloads, ".csv")
    table = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    by_code = {r["Mã thủ tục"]: r for r in table}
    assert by_code[CHEMICALS[0]]["Hồ sơ đã giải quyết"] == "5"
    assert by_code[CHEMICALS[0]]["Thông báo đã đến người dân"] == "3"
    assert by_code[RECORD[0]]["Tên thủ tục"] == RECORD[1]

    desk.find_element(By.ID, "export-thu-tuc-xlsx").click()
    sheet = load_workbook(downloaded(downloads, ".xlsx")).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    xlsx = {r[header.index("Mã thủ tục")]: dict(zip(header, r, strict=True)) for r in rows}
    assert xlsx[PERMIT[0]]["Hồ sơ tiếp nhận"] == 2
    assert xlsx[CHEMICALS[0]]["Tỉ lệ báo kết quả / đã giải quyết"] == pytest.approx(0.6)


def test_an_agency_user_sees_its_own_and_is_refused_another_agency(site, desk, shots):
    log_in(desk, site.url, STP_USER, PASSWORD)
    desk.get(f"{site.url}/thu-tuc?{site.period()}")
    codes = [r["procedure_code"].text for r in table_rows(desk, "thu-tuc")]
    assert codes == [RECORD[0]]
    options = Select(desk.find_element(By.ID, "agency")).options
    assert [o.get_attribute("value") for o in options] == ["STP"]

    desk.get(f"{site.url}/thu-tuc?{site.period()}&agency=SCT")
    wait_for_title(desk, "403")
    assert "chỉ được xem số liệu của cơ quan mình" in desk.page_source
    assert CHEMICALS[1] not in desk.page_source
    screenshot(desk, shots, "4-tu-choi-co-quan-khac")

    desk.get(f"{site.url}/xuat/thu-tuc.csv?{site.period()}&agency=SCT")
    wait_for_title(desk, "403")
    assert CHEMICALS[1] not in desk.page_source


def test_the_login_page_and_a_wrong_password(site, desk, shots):
    desk.get(site.url + "/")
    wait_for(desk, "#login")
    screenshot(desk, shots, "0-dang-nhap")
    desk.find_element(By.ID, "user").send_keys(SUPERVISOR)
    desk.find_element(By.ID, "password").send_keys("sai mật khẩu")
    desk.find_element(By.ID, "sign-in").click()

    assert "Sai tên đăng nhập hoặc mật khẩu" in wait_for(desk, ".refusal").text


def test_the_overview_fits_a_phone_screen_without_sideways_scrolling(site, downloads, shots):
    with chromium(downloads, PHONE) as phone:
        log_in(phone, site.url, SUPERVISOR, PASSWORD)
        phone.get(f"{site.url}/?{site.period()}")
        wait_for(phone, "svg.chart")
        page_width = phone.execute_script("return document.documentElement.scrollWidth")
        view_width = phone.execute_script("return window.innerWidth")
        chart = phone.find_element(By.CSS_SELECTOR, "svg.chart").size["width"]
        screenshot(phone, shots, "5-tong-quan-dien-thoai")

    assert page_width <= view_width
    assert 0 < chart <= view_width
