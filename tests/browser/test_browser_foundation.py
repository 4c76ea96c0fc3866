"""Sign-in, role home pages and sign-out in a real Chromium."""

import pytest


@pytest.mark.parametrize("role", ["admin", "evaluator", "coach", "agent", "executive"])
def test_sign_in_shows_the_role_home(sign_in_as, page, role):
    sign_in_as(role)
    assert page.locator(f'section[data-role="{role}"]').is_visible()
    # the Users page sits in the admin's "Admin" menu group (collapsed until opened), and in no other menu
    users_links = page.locator('nav.mainnav a[href="/admin/users"]').count()
    assert (users_links == 1) == (role == "admin")
    if role == "admin":
        page.locator("nav.mainnav details.navgroup summary", has_text="Admin").click()
        assert page.locator('nav.mainnav a[href="/admin/users"]').is_visible()


def test_wrong_password_then_sign_out(page):
    page.goto("/login")
    page.fill("input[name=username]", "b_agent")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.locator("[role=alert]").inner_text()


def test_sign_out_returns_to_login(sign_in_as, page):
    sign_in_as("agent")
    page.click("text=Sign out")
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url
