"""Where a login returns to (`next=`): a plain path of this site, or "/"."""

from __future__ import annotations

import pytest

from gateway.console.context import local_path


def test_a_next_path_with_a_tab_or_control_character_is_not_followed():
    # Browsers drop tabs from URLs: "/\t/evil" is "//evil", another site.
    assert local_path("/\t/evil.example/") == "/"
    # aiohttp refuses a Location with \x0b: the login succeeds and the connection drops.
    assert local_path("/\x0b/x") == "/"


@pytest.mark.parametrize(
    "path", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "evil", "", None]
)
def test_a_next_path_to_another_site_or_not_a_path_is_not_followed(path):
    assert local_path(path) == "/"


@pytest.mark.parametrize("path", ["/a b", "/\u00a0/x", "/x\x00", "/x\x7f", "/thủ-tục", "/#x"])
def test_a_next_path_with_a_space_or_a_character_urls_do_not_hold_is_not_followed(path):
    assert local_path(path) == "/"


@pytest.mark.parametrize(
    "path",
    ["/", "/thu-tuc?from=2026-11-01&to=2026-11-23&sort=ratio&order=desc", "/thong-bao-loi?page=2",
     "/xuat/thu-tuc.csv?agency=S%C6%A0"],
)  # fmt: skip
def test_a_plain_path_of_this_site_is_followed_as_it_is(path):
    assert local_path(path) == path
