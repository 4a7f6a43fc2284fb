"""The bed board page and its live fragment: states, names by who may see them, ETag polling, actions."""

import re

import pytest
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from hospital.core.models import AccessLog
from scheduling.models import BedBlock, BedCleaning, BedRequest, BedStay
from scheduling.services.rosters import ward_assignment_create
from tests.scheduling.test_board_support import (
    bed,
    bed_manager,
    dirty,
    doctor,
    make_patient,
    make_ward,
    nurse,
    occupy,
    waiting_request,
)

pytestmark = pytest.mark.django_db

BOARD = reverse("scheduling:bed_board")
LIVE = reverse("scheduling:bed_board_live")


def _tile(html: str, ward: str, code: str) -> str:
    section = html.split(f'data-ward="{ward}"')[1]
    return section.split(f'data-bed="{code}"')[1].split("</li>")[0]


def _state(html: str, ward: str, code: str) -> str:
    section = html.split(f'data-ward="{ward}"')[1]
    return re.search(rf'data-bed="{code}" data-state="(\w+)"', section).group(1)


@pytest.fixture
def board(db):
    ward = make_ward("GM1", beds=4)
    occupy(bed(ward, "01"), make_patient("Wang", "Fang", "female"), expected_discharge_on="2030-05-04")
    dirty(bed(ward, "02"))
    return ward


def test_page_shows_every_bed_by_state_with_occupancy_and_the_queue(client, board):
    waiting_request(make_patient("Zhou", "Yu", "male"), doctor(), priority=1)
    client.force_login(bed_manager())

    html = client.get(BOARD).content.decode()

    assert [_state(html, "GM1", code) for code in ("01", "02", "03", "04")] == ["occupied", "cleaning", "free", "free"]
    assert "1/4</strong> occupied (25%)" in html
    assert "→ 04 May" in _tile(html, "GM1", "01")
    assert 'data-testid="bed-queue"' in html and "Yu Zhou" in html.split('data-testid="bed-queue"')[1]
    assert 'data-action="assign"' in html  # a suggestion with its one-click button
    assert f'hx-get="{LIVE}" hx-trigger="every 10s"' in html
    entry = AccessLog.objects.get(object_type="scheduling.bed_board")
    assert entry.detail["beds"] == 4 and entry.detail["names_shown"] == 2


def _panel(client, target):
    return client.get(reverse("scheduling:bed_board_bed", args=[target.external_id]), HTTP_HX_REQUEST="true")


def test_bed_managers_see_names_others_initials_unless_they_treat_the_patient(client, board):
    occupied = bed(board, "01")
    client.force_login(bed_manager())
    as_manager = _tile(client.get(BOARD).content.decode(), "GM1", "01")
    manager_panel = _panel(client, occupied).content.decode()
    ward_nurse = nurse()
    client.force_login(ward_nurse)
    as_stranger = _tile(client.get(BOARD).content.decode(), "GM1", "01")
    stranger_panel = _panel(client, occupied).content.decode()
    ward_assignment_create(ward=board, user=ward_nurse, role="nurse", starts_on="2020-01-01")
    as_ward_nurse = _tile(client.get(BOARD).content.decode(), "GM1", "01")

    assert 'title="Fang Wang"' in as_manager and "F.W." in as_manager
    assert "Fang Wang" in manager_panel and 'data-action="discharge"' in manager_panel
    assert "Fang Wang" not in as_stranger and "F.W." in as_stranger
    assert "Fang Wang" not in stranger_panel and "name hidden" in stranger_panel
    assert 'title="Fang Wang"' in as_ward_nurse
    # the menu logs the read of the one patient it names, and only when it names them
    reads = AccessLog.objects.filter(object_type="scheduling.bedstay", action="read")
    assert reads.count() == 1 and reads.get().patient_external_id == occupied.stays.get().encounter.patient.external_id


def test_a_bed_menu_opened_without_javascript_is_a_page(client, board):
    client.force_login(bed_manager())

    html = client.get(reverse("scheduling:bed_board_bed", args=[bed(board, "02").external_id])).content.decode()

    assert "<html" in html and 'data-action="clean"' in html and "Back to the bed board" in html


def test_chinese_names_show_the_surname_only(client, board):
    occupy(bed(board, "03"), make_patient("王", "小芳", "female"))
    client.force_login(nurse())

    tile = _tile(client.get(BOARD).content.decode(), "GM1", "03")

    assert "王**" in tile and "小芳" not in tile


def test_only_bed_managers_nurses_and_doctors_open_the_board(client, board):
    from tests.factories import UserFactory

    client.force_login(UserFactory(roles=["pharmacist"]))
    assert client.get(BOARD).status_code == 403
    assert client.get(LIVE).status_code == 403
    client.force_login(doctor())
    assert client.get(BOARD).status_code == 200


@pytest.mark.parametrize("wards", [1, 8])
def test_board_query_count_is_fixed(client, wards, django_assert_num_queries):
    for index in range(wards):
        ward = make_ward(f"W{index}", beds=10)
        for code in ("01", "02", "03"):
            occupy(bed(ward, code))
        dirty(bed(ward, "04"))
    for index in range(3):
        waiting_request(make_patient(given_name=f"P{index}"), doctor())
    client.force_login(nurse())
    client.get(LIVE)  # warm the session and the role cache

    # session, user, roles; the version; wards, bed states (4), permissions (2), queue, visible patients;
    # the access-log entry (savepoint, lock, previous hash, insert, release); the session save (3)
    with django_assert_num_queries(22):
        response = client.get(LIVE, HTTP_HX_REQUEST="true")

    assert response.status_code == 200


def test_fragment_has_an_etag_and_an_unchanged_board_costs_one_query(client, board, django_assert_num_queries):
    client.force_login(bed_manager())
    first = client.get(LIVE, HTTP_HX_REQUEST="true")
    etag = first["ETag"]
    logged = AccessLog.objects.count()

    # session, user, roles, the version: the one query the board itself costs; then the session save (3)
    with django_assert_num_queries(7):
        unchanged = client.get(LIVE, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    plain = client.get(LIVE, HTTP_IF_NONE_MATCH=etag)

    assert "<html" not in first.content.decode() and 'class="board-live"' in first.content.decode()
    assert unchanged.status_code == 204 and unchanged.content == b""
    assert plain.status_code == 304
    assert AccessLog.objects.count() == logged  # nothing shown, nothing logged

    BedCleaning.objects.update(completed_at=timezone.now())  # housekeeping finished
    changed = client.get(LIVE, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert _state(changed.content.decode(), "GM1", "02") == "free"


def test_discharge_clean_block_and_unblock_from_the_board(client, board):
    client.force_login(bed_manager())
    target = bed(board, "01")

    discharged = client.post(
        reverse("scheduling:bed_board_discharge", args=[target.external_id]), HTTP_HX_REQUEST="true"
    )
    assert _state(discharged.content.decode(), "GM1", "01") == "cleaning"
    assert "waiting for cleaning" in discharged.content.decode()
    cleaned = client.post(reverse("scheduling:bed_board_clean", args=[target.external_id]), HTTP_HX_REQUEST="true")
    assert _state(cleaned.content.decode(), "GM1", "01") == "free"
    blocked = client.post(
        reverse("scheduling:bed_board_block", args=[target.external_id]),
        {"reason": "Broken rail"},
        HTTP_HX_REQUEST="true",
    )
    assert _state(blocked.content.decode(), "GM1", "01") == "blocked" and "Broken rail" in blocked.content.decode()
    unblocked = client.post(reverse("scheduling:bed_board_unblock", args=[target.external_id]), HTTP_HX_REQUEST="true")
    assert _state(unblocked.content.decode(), "GM1", "01") == "free"
    assert BedStay.objects.get().period.upper is not None and BedBlock.objects.count() == 1


def test_a_failed_action_shows_why_and_writes_nothing(client, board):
    client.force_login(bed_manager())
    free_bed = bed(board, "03")

    response = client.post(reverse("scheduling:bed_board_block", args=[free_bed.external_id]), {"reason": " "},
                           HTTP_HX_REQUEST="true")  # fmt: skip
    without_htmx = client.post(reverse("scheduling:bed_board_clean", args=[free_bed.external_id]))

    assert 'class="notice notice-error"' in response.content.decode()
    assert "Say why the bed is blocked." in response.content.decode()
    assert without_htmx.status_code == 302 and without_htmx["Location"] == BOARD
    assert not BedBlock.objects.exists()


def test_assign_from_the_queue_with_one_click(client, board):
    request = waiting_request(make_patient("Zhou", "Yu", "male"), doctor())
    client.force_login(bed_manager())
    target = bed(board, "03")

    response = client.post(
        reverse("scheduling:bed_board_assign", args=[request.external_id]),
        {"bed": str(target.external_id)},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert _state(html, "GM1", "03") == "occupied" and "Yu Zhou admitted to bed GM1/03" in html
    assert BedRequest.objects.get().status == "assigned"
    assert "Nobody is waiting for a bed." in html


def test_nurses_see_no_assign_or_block_buttons_and_cannot_post_them(client, board):
    request = waiting_request(make_patient("Zhou", "Yu", "male"), doctor())
    client.force_login(nurse())

    html = client.get(BOARD).content.decode()
    free_panel = _panel(client, bed(board, "03")).content.decode()
    occupied_panel = _panel(client, bed(board, "01")).content.decode()
    response = client.post(
        reverse("scheduling:bed_board_assign", args=[request.external_id]), {"bed": str(bed(board, "03").external_id)}
    )

    assert 'data-action="assign"' not in html and 'data-action="block"' not in free_panel
    assert 'data-action="discharge"' in occupied_panel
    assert response.status_code == 403


def test_the_page_keeps_a_named_block_for_the_forecast():
    from django.template.loader_tags import BlockNode

    template = get_template("scheduling/board.html").template
    names = {node.name for node in template.nodelist.get_nodes_by_type(BlockNode)}

    assert "bed_forecast" in names
