"""The phone sign-in's code field signs in by itself once its 6 digits are in
(static/js/page.js; tested in the browser by tests/e2e/test_one_tap_browser.py): the
note that says so comes hidden, for the script to show, and the button stays for a
browser without JavaScript."""

EN = {"Accept-Language": "en"}


def test_the_code_form_carries_the_note_hidden_and_keeps_its_button(client):
    response = client.post_form("/signin/phone", {"phone": "138 0013 8000"}, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'autocomplete="one-time-code"' in html
    assert 'data-autosubmit="code-auto"' in html
    assert '<p class="muted" id="code-auto" hidden>Signs you in as soon as the 6 digits are in.</p>' in html
    assert '<button type="submit" class="primary">Sign in</button>' in html
