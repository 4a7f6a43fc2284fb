"""The bed board in a real browser: the bed manager assigns a waiting patient with one click, discharges, and
sees housekeeping's "clean" arrive by itself, all on one page load.

Screenshots go to var/screenshots/ (laptop 1280 and tablet 820 wide, English and Chinese).
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from emr.models import Encounter
from scheduling.models import Bed, BedRequest
from scheduling.services.adt import bed_cleaning_complete
from tests.factories import TEST_PASSWORD, UserFactory
from tests.scheduling.test_board_support import make_patient, make_ward, occupy, waiting_request

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()


def _tile(page, ward: str, code: str):
    return page.locator(f'section[data-ward="{ward}"] li.bed[data-bed="{code}"]')


def test_bed_manager_assigns_discharges_and_sees_the_bed_cleaned_without_a_reload(page, settings):
    settings.BED_BOARD_POLL_SECONDS = 1
    UserFactory(username="beds.liu", display_name="Liu Yang", roles=["bed_manager"])
    housekeeper = UserFactory(username="nurse.ma", display_name="Ma Li", roles=["nurse"])
    doctor = UserFactory(username="dr.sun", display_name="Sun Hao", roles=["doctor"])
    ward = make_ward("GM1", beds=6)
    make_ward("CA1", specialty="cardiology", beds=4)
    for code in ("01", "04"):
        occupy(Bed.objects.get(ward=ward, code=code), user=housekeeper)
    patient = make_patient("Zhou", "Yu", "male")
    visit = Encounter.objects.create(
        patient=patient, encounter_class="emergency", started_at="2025-01-01T10:00Z", attending=doctor
    )
    waiting_request(patient, doctor, encounter=visit, priority=1, note="pneumonia")
    waiting_request(make_patient("Lin", "Hua", "female"), doctor, priority=3, specialty="cardiology")

    # given the bed manager on the bed board
    _sign_in(page, "beds.liu")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Bed board").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bed board")
    page.evaluate("window.__sameDocument = true")
    queue = page.get_by_test_id("bed-queue")
    first = queue.locator(".queue-item").first
    expect(first).to_contain_text("Yu Zhou")
    suggestion = first.locator(".suggestion").first
    code = suggestion.get_attribute("data-bed")
    expect(suggestion).to_contain_text("Ward specialty matches")
    _shot(page, "bed-board-en-laptop")

    # when they assign the first suggestion with one click
    suggestion.get_by_role("button", name="Assign").click()

    # then the bed shows occupied and the patient left the queue
    expect(_tile(page, "GM1", code)).to_have_attribute("data-state", "occupied")
    expect(page.get_by_test_id("board-notice")).to_contain_text(f"Yu Zhou admitted to bed GM1/{code}")
    expect(queue.locator(".queue-item")).to_have_count(1)
    assert BedRequest.objects.get(patient=patient).status == "assigned"

    # when they discharge the patient from the bed's menu
    _tile(page, "GM1", code).locator("summary").click()
    _tile(page, "GM1", code).get_by_role("button", name="Discharge").click()

    # then the bed waits for housekeeping
    expect(_tile(page, "GM1", code)).to_have_attribute("data-state", "cleaning")
    _shot(page, "bed-board-cleaning-en-laptop")

    # when housekeeping marks it clean on another screen, the open board turns it free by itself
    bed_cleaning_complete(bed=Bed.objects.get(ward=ward, code=code), completed_by=housekeeper)
    expect(_tile(page, "GM1", code)).to_have_attribute("data-state", "free", timeout=10000)
    assert page.evaluate("window.__sameDocument") is True  # no full page load happened

    # the board on a tablet, and in Chinese
    page.set_viewport_size({"width": 820, "height": 1180})
    page.reload()
    expect(_tile(page, "GM1", "01")).to_have_attribute("data-state", "occupied")
    _tile(page, "GM1", "01").locator("summary").click()
    _shot(page, "bed-board-en-tablet")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    _shot(page, "bed-board-zh-tablet")
