"""The base layout in a real browser: sign-in, role navigation, language switch, tablet menu, sign-out.

Screenshots go to var/screenshots/ for a person to look at.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page, username: str) -> None:
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_doctor_signs_in_switches_language_uses_the_tablet_menu_and_signs_out(page):
    UserFactory(username="dr.li", display_name="Li Wei", roles=["doctor"])

    # given the sign-in page
    page.goto("/accounts/login/")
    _shot(page, "login-en-laptop")

    # when the doctor signs in through the form
    _sign_in(page, "dr.li")

    # then the home page greets them with their name and role, and the status card loads by htmx
    expect(page).to_have_url("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Li Wei")
    expect(page.get_by_test_id("user-name")).to_have_text("Li Wei")
    expect(page.get_by_test_id("user-roles")).to_contain_text("Doctor")
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Access log")).to_have_count(0)  # auditors only
    expect(page.locator("#system-status [data-check=database] .badge-ok")).to_be_visible()
    _shot(page, "home-en-laptop")

    # when they switch to Simplified Chinese
    page.get_by_role("button", name="简体中文").click()

    # then the same page is in Chinese, navigation and role labels included
    expect(page).to_have_url("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("欢迎，Li Wei")
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="首页")).to_be_visible()
    expect(page.get_by_test_id("user-roles")).to_contain_text("医生")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    expect(page.locator("#system-status [data-check=database]")).to_contain_text("数据库")
    _shot(page, "home-zh-laptop")

    # and back to English
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # when the window is a tablet in portrait, the navigation hides behind the menu button
    page.set_viewport_size({"width": 800, "height": 1100})
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#site-nav")).to_be_hidden()
    expect(page.locator("#system-status [data-check=database] .badge-ok")).to_be_visible()
    _shot(page, "home-en-tablet")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#site-nav").get_by_role("link", name="Home")).to_be_visible()
    _shot(page, "home-en-tablet-menu-open")
    page.keyboard.press("Escape")
    expect(page.locator("#site-nav")).to_be_hidden()

    # when they sign out, they are back on the sign-in page
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_test_id("user-name")).to_have_count(0)

    # and the sign-in page itself can be switched to Chinese before signing in
    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    _shot(page, "login-zh-tablet")


def test_navigation_stays_usable_without_javascript(browser, live_server):
    UserFactory(username="nurse.chen", display_name="Chen Jing", roles=["nurse", "auditor"])
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 800, "height": 1000}
    )
    page = context.new_page()
    try:
        _sign_in(page, "nurse.chen")

        expect(page).to_have_url("/")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        nav = page.locator("#site-nav")
        expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()
        expect(nav.get_by_role("link", name="Home")).to_be_visible()
        expect(nav.get_by_role("link", name="Access log")).to_be_visible()
        # the language switch is a plain form post
        page.get_by_role("button", name="简体中文").click()
        expect(nav.get_by_role("link", name="访问日志")).to_be_visible()
        # htmx never runs: instead of a spinner that never ends, the card points to the details page
        expect(page.get_by_text("正在检查…")).to_be_hidden()
        expect(page.get_by_text("打开详情查看当前状态。")).to_be_visible()
        _shot(page, "home-zh-tablet-no-js")
        page.get_by_role("link", name="详情").click()
        expect(page.locator("[data-check=database] .badge-ok")).to_be_visible()
        _shot(page, "status-zh-tablet-no-js")
    finally:
        context.close()
