"""Roster import through HTTP on SQLite and PostgreSQL: whole-file validation, atomic and
idempotent application, encodings and size limits, and the preview confirmed before applying."""

import io

import pytest

from services.eventkit.auth import COORDINATOR, Grant
from support import auth_headers

HEADER = "name,email,role,training_level,specialty,interests,languages,meeting_mode,capacity"
ROWS = [
    "Ana Silva,ana@example.org,mentee,PGY1,General Surgery,trauma;research,Portuguese;English,virtual,",
    'Dr Bo Chen,bo@example.org,mentor,PGY5,"Surgery, General",trauma,English,either,2',
    "Cy Okafor,cy@example.org,mentee,PGY1,,global surgery,,in_person,",
]


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


@pytest.fixture
def cycle(client, admin):
    inst = client.post(
        "/api/institutions",
        json={"name": "Northfield", "short_code": "NUH", "time_zone": "UTC"},
        headers=admin,
    ).json
    program = client.post(
        f"/api/institutions/{inst['id']}/programs",
        json={"name": "Peer", "program_type": "resident_peer_mentoring"},
        headers=admin,
    ).json
    cycle = client.post(
        f"/api/programs/{program['id']}/cycles", json={"name": "2026-27"}, headers=admin
    ).json
    return {**cycle, "coordinator": auth_headers(Grant(COORDINATOR, inst["id"]), user="coord")}


def _upload(client, cycle, data: bytes, multipart: bool = True):
    url = f"/api/cycles/{cycle['id']}/roster"
    if multipart:
        return client.post(
            url,
            data={"file": (io.BytesIO(data), "roster.csv")},
            headers=cycle["coordinator"],
            content_type="multipart/form-data",
        )
    return client.post(url, data=data, headers={**cycle["coordinator"], "Content-Type": "text/csv"})


def test_valid_roster_is_applied_and_a_second_import_changes_nothing(
    client, admin, cycle, stored_events
):
    first = _upload(client, cycle, _csv(*ROWS))
    assert first.status_code == 200, first.json
    assert first.json | {} == {
        "rows": 3,
        "people_registered": 3,
        "enrolled": 3,
        "updated": 0,
        "unchanged": 0,
        "other_institution": 0,
        "case_only_matches": 0,
        "encoding": "utf-8",
    }
    roster = client.get(f"/api/cycles/{cycle['id']}/enrollments", headers=admin).json
    by_name = {e["name"]: e for e in roster}
    assert by_name["Dr Bo Chen"]["capacity"] == 2 and by_name["Dr Bo Chen"]["role"] == "mentor"
    assert by_name["Ana Silva"]["languages"] == ["Portuguese", "English"]
    assert by_name["Ana Silva"]["meeting_mode"] == "virtual"
    events = stored_events()
    again = _upload(client, cycle, _csv(*ROWS), multipart=False)
    assert again.status_code == 200
    assert again.json["unchanged"] == 3 and again.json["people_registered"] == 0
    assert stored_events() == events


def test_changed_rows_update_and_new_rows_enroll(client, cycle):
    _upload(client, cycle, _csv(*ROWS))
    changed = ROWS[1].replace(",2", ",3")
    result = _upload(
        client, cycle, _csv(ROWS[0], changed, ROWS[2], "Di New,di@example.org,mentee,MS4,,,,,")
    )
    assert result.status_code == 200
    assert (result.json["updated"], result.json["unchanged"], result.json["enrolled"]) == (1, 2, 1)


def test_every_bad_row_is_listed_and_nothing_is_written(client, cycle, stored_events):
    before = stored_events()
    bad = _csv(
        ROWS[0],
        "No Email,,mentee,PGY1,,,,,",
        "Bad Level,bl@example.org,mentee,PGY9,,,,,",
        "Mentor Without Capacity,mw@example.org,mentor,PGY5,,,,,",
        "Mentee With Capacity,mc@example.org,mentee,PGY1,,,,,4",
        "Twice,ana@example.org,mentee,PGY1,,,,,",
        "Wrong Mode,wm@example.org,mentee,PGY1,,,,sometimes,",
    )
    response = _upload(client, cycle, bad)
    assert response.status_code == 422
    problems = {(r["line"], r["column"]) for r in response.json["errors"]["rows"]}
    assert problems >= {
        (3, "email"),
        (4, "training_level"),
        (5, "capacity"),
        (6, "capacity"),
        (7, "email"),
        (8, "meeting_mode"),
    }
    assert stored_events() == before


def test_missing_columns_are_named(client, cycle, stored_events):
    before = stored_events()
    response = _upload(client, cycle, _csv("Ana,ana@example.org,mentee", header="name,email,role"))
    assert response.status_code == 422
    assert {(r["line"], r["column"]) for r in response.json["errors"]["rows"]} == {
        (1, "training_level")
    }
    assert stored_events() == before


def test_person_of_another_institution_is_refused(client, admin, cycle, stored_events):
    other = client.post(
        "/api/institutions",
        json={"name": "Lakeside", "short_code": "LSM", "time_zone": "UTC"},
        headers=admin,
    ).json
    client.post(
        "/api/people",
        json={
            "institution_id": other["id"],
            "name": "Ana",
            "email": "ana@example.org",
            "training_level": "PGY1",
        },
        headers=admin,
    )
    before = stored_events()
    response = _upload(client, cycle, _csv(*ROWS))
    assert response.status_code == 422
    assert response.json["errors"]["rows"] == [
        {
            "line": 2,
            "column": "email",
            "message": "This email belongs to someone at another institution.",
        }
    ]
    assert stored_events() == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "latin-1"])
def test_encodings(client, admin, cycle, encoding):
    text = "\r\n".join([HEADER, "José Müller,jose@example.org,mentee,PGY1,,,,,", ""])
    response = _upload(client, cycle, text.encode(encoding))
    assert response.status_code == 200, response.json
    people = client.get(f"/api/cycles/{cycle['id']}/enrollments", headers=admin).json
    assert [p["name"] for p in people] == ["José Müller"]


def test_utf16_and_spreadsheets_are_refused_clearly(client, cycle):
    utf16 = _upload(client, cycle, _csv(*ROWS).decode().encode("utf-16"))
    assert utf16.status_code == 422 and "UTF-8" in utf16.json["message"]
    xlsx = _upload(client, cycle, b"PK\x03\x04" + b"\x00" * 100)
    assert xlsx.status_code == 422 and "CSV" in xlsx.json["message"]


def test_oversized_file_is_refused_with_the_limit(client, cycle, monkeypatch, stored_events):
    monkeypatch.setenv("ROSTER_MAX_BYTES", "200")
    before = stored_events()
    response = _upload(client, cycle, _csv(*ROWS * 3))
    assert response.status_code == 422
    assert (
        "200" in response.json["message"]
        or "KB" in response.json["message"]
        or "bytes" in response.json["message"]
    )
    assert stored_events() == before


def test_only_the_cycles_coordinators_import(client, cycle, stored_events):
    other = auth_headers(Grant(COORDINATOR, "another-institution"), user="x")
    before = stored_events()
    response = client.post(
        f"/api/cycles/{cycle['id']}/roster",
        data=_csv(*ROWS),
        headers={**other, "Content-Type": "text/csv"},
    )
    assert response.status_code == 403
    assert stored_events() == before


# --- preview, then apply on confirmation ---------------------------------------------------------


def _preview(client, cycle, data: bytes):
    return client.post(
        f"/api/cycles/{cycle['id']}/roster/preview",
        data=data,
        headers={**cycle["coordinator"], "Content-Type": "text/csv"},
    )


def _apply(client, cycle, preview: dict):
    body = {"file_sha256": preview["file_sha256"], "plan": preview["plan"]}
    return client.post(
        f"/api/cycles/{cycle['id']}/roster/apply", json=body, headers=cycle["coordinator"]
    )


def _register(client, admin, institution_id: str, name: str, email: str, level: str = "PGY1"):
    person = {"institution_id": institution_id, "name": name, "email": email,
              "training_level": level}  # fmt: skip
    return client.post("/api/people", json=person, headers=admin).json


def test_the_preview_shows_each_change_and_applies_only_on_confirmation(
    client, admin, cycle, stored_events
):
    _upload(client, cycle, _csv(*ROWS))
    ana = ROWS[0].replace("Ana Silva,ana@example.org", "Ana Sousa,Ana@Example.ORG")
    bo = ROWS[1].replace("PGY5", "PGY6")
    new = "Di New,di@example.org,mentee,MS4,,,,,"
    before = stored_events()
    shown = _preview(client, cycle, _csv(ana, bo, ROWS[2], new))
    assert shown.status_code == 200, shown.json
    assert stored_events() == before  # a preview writes no event
    preview = shown.json
    assert preview["counts"] | {} == {
        "rows": 4, "people_registered": 1, "enrolled": 1, "updated": 2, "unchanged": 1,
        "other_institution": 0, "case_only_matches": 1,
    }  # fmt: skip
    by_line = {p["line"]: p for p in preview["people"]}
    assert by_line[2]["status"] == "updated" and by_line[2]["case_only_match"]
    assert by_line[2]["email_as_written"] == "Ana@Example.ORG"
    assert by_line[2]["directory_email"] == "ana@example.org"
    assert by_line[2]["changes"] == [{"field": "name", "old": "Ana Silva", "new": "Ana Sousa"}]
    assert by_line[3]["changes"] == [{"field": "training_level", "old": "PGY5", "new": "PGY6"}]
    assert by_line[4]["status"] == "unchanged" and by_line[4]["changes"] == []
    assert by_line[5]["status"] == "new" and by_line[5]["enrolls"]

    applied = _apply(client, cycle, preview)
    assert applied.status_code == 200, applied.json
    assert (applied.json["people_registered"], applied.json["updated"]) == (1, 2)
    assert (applied.json["unchanged"], applied.json["enrolled"]) == (1, 1)
    roster = client.get(f"/api/cycles/{cycle['id']}/enrollments", headers=admin).json
    assert sorted(e["name"] for e in roster) == ["Ana Sousa", "Cy Okafor", "Di New", "Dr Bo Chen"]
    assert len(roster) == 4  # the case-only match is the same person, not a second one
    again = _apply(client, cycle, preview)
    assert again.status_code == 404  # applied once; the preview is gone


def test_changed_levels_of_people_new_to_the_cycle_count_as_updated(client, admin, cycle):
    """People already in the directory, enrolled in this cycle for the first time with a new
    training level, are counted as updated (and enrolled), not as unchanged."""
    for i in range(8):
        _register(client, admin, cycle["institution_id"], f"Res {i}", f"res{i}@example.org")
    rows = [f"Res {i},res{i}@example.org,mentee,PGY2,,,,," for i in range(8)]
    preview = _preview(client, cycle, _csv(*rows)).json
    assert preview["counts"]["updated"] == 8 and preview["counts"]["enrolled"] == 8
    assert {(c["field"], c["old"], c["new"]) for p in preview["people"] for c in p["changes"]} == {
        ("training_level", "PGY1", "PGY2")
    }
    applied = _apply(client, cycle, preview).json
    assert (applied["updated"], applied["enrolled"], applied["unchanged"]) == (8, 8, 0)


def test_a_directory_changed_since_the_preview_is_shown_again(client, admin, cycle, stored_events):
    _upload(client, cycle, _csv(*ROWS))
    preview = _preview(client, cycle, _csv(ROWS[0].replace("PGY1", "PGY2"))).json
    ana = next(e for e in client.get(f"/api/cycles/{cycle['id']}/enrollments", headers=admin).json
               if e["name"] == "Ana Silva")  # fmt: skip
    renamed = client.patch(
        f"/api/people/{ana['person_id']}", json={"name": "Ana S."}, headers=admin
    )
    assert renamed.status_code == 200, renamed.json
    before = stored_events()
    stale = _apply(client, cycle, preview)
    assert stale.status_code == 409
    assert "changed since this preview" in stale.json["message"]
    assert stale.json["preview"]["people"][0]["changes"] == [
        {"field": "name", "old": "Ana S.", "new": "Ana Silva"},
        {"field": "training_level", "old": "PGY1", "new": "PGY2"},
    ]
    assert stored_events() == before
    assert _apply(client, cycle, stale.json["preview"]).status_code == 200


def test_another_institutions_person_is_left_out_and_explained(client, admin, cycle):
    other = client.post(
        "/api/institutions",
        json={"name": "Lakeside", "short_code": "LSM", "time_zone": "UTC"},
        headers=admin,
    ).json
    _register(client, admin, other["id"], "Ana Elsewhere", "ana@example.org")
    preview = _preview(client, cycle, _csv(*ROWS)).json
    first = preview["people"][0]
    assert first["status"] == "other_institution"
    assert first["person_id"] is None and first["directory_email"] == ""  # nothing of theirs
    applied = _apply(client, cycle, preview).json
    assert (applied["other_institution"], applied["people_registered"]) == (1, 2)
    roster = client.get(f"/api/cycles/{cycle['id']}/enrollments", headers=admin).json
    assert sorted(e["name"] for e in roster) == ["Cy Okafor", "Dr Bo Chen"]


def test_a_bad_file_is_refused_at_preview_with_field_errors(client, cycle):
    refused = _preview(client, cycle, _csv("Bad Level,bl@example.org,mentee,PGY9,,,,,"))
    assert refused.status_code == 422
    assert [(r["line"], r["column"]) for r in refused.json["errors"]["rows"]] == [
        (2, "training_level")
    ]


def test_apply_names_a_previewed_file(client, cycle):
    missing = client.post(
        f"/api/cycles/{cycle['id']}/roster/apply",
        json={"file_sha256": "0" * 64, "plan": "0" * 64},
        headers=cycle["coordinator"],
    )
    assert missing.status_code == 404
    malformed = client.post(
        f"/api/cycles/{cycle['id']}/roster/apply", json={"file_sha256": "x"},
        headers=cycle["coordinator"],
    )  # fmt: skip
    assert malformed.status_code == 422
    assert set(malformed.json["errors"]["json"]) == {"file_sha256", "plan"}


def test_declared_conflicts_are_part_of_the_preview(client, cycle):
    _upload(client, cycle, _csv(*ROWS))
    header = HEADER + ",conflicts"
    ana = ROWS[0] + ",supervisor:bo@example.org"
    preview = _preview(client, cycle, _csv(ana, ROWS[1] + ",", ROWS[2] + ",", header=header)).json
    first = preview["people"][0]
    assert first["status"] == "updated"
    assert first["changes"] == [
        {"field": "conflicts", "old": [], "new": ["supervisor:bo@example.org"]}
    ]
    assert _apply(client, cycle, preview).json["updated"] == 1
    again = _preview(client, cycle, _csv(ana, ROWS[1] + ",", ROWS[2] + ",", header=header)).json
    assert again["counts"]["unchanged"] == 3
