"""The invitation and password pages in a real browser (marker ``browser``).

Debian's chromium (``tests/fixtures/browser.py``): Ann, the owner of Acme Pumps, invites Nia
on the people page and copies the link; Nia opens it in her own browser, chooses a password
(a mistyped one first) and lands signed in; then she changes her password on her account
page. Each page is checked with axe-core (no serious or critical violation) and must log no
console error (a script or style blocked by the Content-Security-Policy would).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fixtures.browser import Person, Server

pytestmark = pytest.mark.browser

NIA_PASSWORD = "seven green apples on a tray"


def test_invite_accept_and_change_password(people: Callable[[], Person], server: Server) -> None:
    ann = people()
    ann.sign_in("ann@example.com")
    page = ann.page
    page.goto(f"{server.url}/people")
    page.locator("#invite-email").fill("nia@example.com")
    page.locator("#invite-name").fill("Nia Patel")
    page.locator("#invite-role").select_option("engineer")
    page.get_by_role("button", name="Make the invitation link").click()
    page.wait_for_load_state()
    link = page.locator("#invite-link").input_value()
    assert link.startswith(f"{server.url}/invite/")
    assert page.locator("#invitations").get_by_text("nia@example.com").count() == 1
    ann.check("people-invitation", view="#invite-link-card")

    nia = people()
    nia.page.goto(link)
    nia.check("invite-accept")
    nia.page.get_by_label("Choose a password").fill(NIA_PASSWORD)
    nia.page.get_by_label("Password again").fill(NIA_PASSWORD + "!")
    nia.page.get_by_role("button", name="Create my account and sign in").click()
    nia.page.wait_for_load_state()
    assert "The two new passwords differ" in nia.page.content()
    nia.check("invite-accept-error")
    nia.page.get_by_label("Choose a password").fill(NIA_PASSWORD)
    nia.page.get_by_label("Password again").fill(NIA_PASSWORD)
    nia.page.get_by_role("button", name="Create my account and sign in").click()
    nia.page.wait_for_load_state()
    assert nia.page.url == f"{server.url}/products"

    nia.page.goto(f"{server.url}/account")
    nia.page.get_by_label("Current password").fill(NIA_PASSWORD)
    nia.page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    nia.page.get_by_label("New password again").fill("a brand new passphrase")
    nia.page.get_by_role("button", name="Change the password").click()
    nia.page.wait_for_load_state()
    assert "Your password was changed." in nia.page.content()
    nia.check("account-password-changed", view="#password")
    ann.assert_no_console_errors()
    # the mistyped password's form answered 400, which chromium reports
    nia.assert_no_console_errors(
        "Failed to load resource: the server responded with a status of 400"
    )
