"""The accessibility check itself: axe-core runs on the real page, under its real CSP, and can fail.

Every other browser test is checked by the fixtures (conftest.py, pages.py);
this one shows that the check would catch a violation, so a green run means
something.
"""

import pytest
from playwright.sync_api import Error, expect

from tests.browser.pages import expect_accessible, login_form

ADD_UNLABELLED_PARTS = """() => {
    const image = document.createElement("img");
    image.id = "axe-probe-image";
    image.src = "/app.css";
    const field = document.createElement("input");
    field.id = "axe-probe-field";
    document.querySelector("main").append(image, field);
}"""
REMOVE_THEM = (
    """() => document.querySelectorAll("#axe-probe-image, #axe-probe-field").forEach(e => e.remove())"""
)


def test_axe_runs_under_the_page_csp_and_finds_a_violation(open_device):
    """An image without text and an unlabelled field are reported by rule, then the page passes again."""
    page = open_device().page
    expect(login_form(page)).to_be_visible()
    # Why the check evaluates axe instead of adding a <script>: the CSP refuses inline scripts.
    with pytest.raises(Error, match="Content Security Policy"):
        page.add_script_tag(content="window.inlineScriptRan = true")
    assert page.evaluate("() => window.inlineScriptRan") is None

    page.evaluate(ADD_UNLABELLED_PARTS)
    with pytest.raises(pytest.fail.Exception) as failure:
        expect_accessible(page, "with unlabelled parts")
    report = str(failure.value)
    assert "image-alt" in report and "#axe-probe-image" in report, report
    assert "label" in report and "#axe-probe-field" in report, report

    page.evaluate(REMOVE_THEM)
    expect_accessible(page, "signed out")
