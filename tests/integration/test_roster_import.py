"""Roster import through HTTP on SQLite and PostgreSQL: whole-file validation, atomic and
idempotent application, encodings and size limits."""

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
