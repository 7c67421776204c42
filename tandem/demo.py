"""The demo consortium: three institutions, a program and a cycle each, 60 mentees and 30 mentors.

Loaded through the public enrollment API, so its events flow through every service.
"""

from __future__ import annotations

import random
import secrets
import time

import requests

from services.eventkit import config
from services.eventkit.auth import ADMIN, Grant, Principal, TokenSigner
from web.cli import set_passwords

INSTITUTIONS = [
    (
        "Northfield University Hospital",
        "NUH",
        "America/Chicago",
        "General Surgery residency peer mentoring",
        "resident_peer_mentoring",
    ),
    (
        "Lakeside School of Medicine",
        "LSM",
        "America/New_York",
        "Final-year medical student career coaching",
        "student_career_coaching",
    ),
    (
        "St Brigid's Teaching Hospital",
        "SBTH",
        "Europe/Dublin",
        "Surgical mentoring families",
        "mentoring_families",
    ),
]
FIRST = [
    "Amara",
    "Ben",
    "Chen",
    "Dana",
    "Elif",
    "Farah",
    "Gabriel",
    "Hana",
    "Ines",
    "Jonah",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Adeyemi",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fujita",
    "Gupta",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Mensah",
    "Nakamura",
    "O'Connor",
    "Petrov",
    "Quispe",
    "Rahman",
    "Silva",
    "Tanaka",
]
INTERESTS = [
    "trauma",
    "surgical oncology",
    "research",
    "global surgery",
    "wellness",
    "medical education",
    "transplant",
    "vascular",
    "paediatric surgery",
    "leadership",
]
GUIDELINES = (
    "Meet at least monthly. Agree objectives in the first meeting. Keep what is shared "
    "confidential. Raise concerns with the program coordinator."
)


def _admin_token() -> str:
    signer = TokenSigner(config.token_key(), config.token_ttl_seconds())
    return signer.mint(Principal("demo-loader", (Grant(ADMIN),), name="Demo loader"))


def load_demo(
    enrollment_url: str,
    pairing_url: str | None = None,
    mentees_per_site: int = 20,
    mentors_per_site: int = 10,
    accounts: bool = True,
) -> dict:
    """Create the demo consortium unless it is there already; return what was created.

    With `pairing_url`, each demo cycle is then paired and published. With `accounts`, an admin
    and a coordinator are added and they, one mentor and one mentee get web sign-ins.
    """
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_admin_token()}"

    def post(path: str, body: dict) -> dict:
        response = session.post(f"{enrollment_url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    existing = session.get(f"{enrollment_url}/api/institutions", timeout=30)
    existing.raise_for_status()
    if {i["short_code"] for i in existing.json()} & {code for _, code, *_ in INSTITUTIONS}:
        return {"loaded": False, "reason": "the demo consortium is already there"}
    rng = random.Random(2026)
    created = {"institutions": 0, "people": 0, "enrollments": 0}
    cycles: list[tuple[str, str, int]] = []
    sample: dict[str, dict] = {}  # the first institution, one of its mentors and mentees
    for name, code, tz, program_name, program_type in INSTITUTIONS:
        institution = post("/api/institutions", {"name": name, "short_code": code, "time_zone": tz})
        program = post(
            f"/api/institutions/{institution['id']}/programs",
            {"name": program_name, "program_type": program_type, "guidelines": GUIDELINES},
        )
        coaching = program_type == "student_career_coaching"
        families = program_type == "mentoring_families"
        shape = {"meeting_expectations": "Monthly", "review_months": [6, 12]}
        if coaching:
            shape = {"pairing_format": "group", "group_size": 5}
        elif families:
            shape = {**shape, "pairing_format": "family"}
        cycle = post(f"/api/programs/{program['id']}/cycles", {"name": "2026-27", **shape})
        algorithm = "groups" if coaching else "families" if families else "stable"
        cycles.append((cycle["id"], algorithm, mentees_per_site + mentors_per_site))
        created["institutions"] += 1
        sample.setdefault("institution", institution)
        for index in range(mentees_per_site + mentors_per_site):
            mentor = index >= mentees_per_site
            first, last = rng.choice(FIRST), rng.choice(LAST)
            if coaching:  # junior residents coach final-year medical students
                level = "PGY2" if mentor else "MS4"
            elif families:  # seniors and mid-levels in turn; interns and PGY2s as juniors
                level = (
                    ("PGY5", "PGY3", "PGY4", "research_resident")[index % 4]
                    if mentor
                    else ("PGY1", "PGY2")[index % 2]
                )
            else:
                level = rng.choice(["PGY4", "PGY5", "research_resident"]) if mentor else "PGY1"
            person = post(
                "/api/people",
                {
                    "institution_id": institution["id"],
                    "name": f"{first} {last}",
                    "email": f"{first}.{last}.{code}{index}@demo.tandem.example".lower().replace(
                        "'", ""
                    ),
                    "training_level": level,
                    "specialty": "General Surgery",
                },
            )
            post(
                f"/api/cycles/{cycle['id']}/enrollments",
                {
                    "person_id": person["id"],
                    "role": "mentor" if mentor else "mentee",
                    "interests": rng.sample(INTERESTS, 3),
                    "capacity": (5 if coaching else 4 if families else rng.choice([2, 3]))
                    if mentor
                    else None,
                },
            )
            sample.setdefault("mentor" if mentor else "mentee", person)
            created["people"] += 1
            created["enrollments"] += 1
    if pairing_url:
        created["pairs"] = _pair_demo_cycles(session, pairing_url, cycles)
    if accounts:
        created["accounts"] = _demo_accounts(session, enrollment_url, sample)
    return {"loaded": True, **created}


def _demo_accounts(
    session: requests.Session, enrollment_url: str, sample: dict[str, dict]
) -> list[dict[str, str]]:
    """Sign-in accounts for one person of each role, sharing one fresh random password.

    Development only: the password is printed once by `tandem run --demo` and stored nowhere else.
    """
    institution = sample["institution"]
    people = []
    code = institution["short_code"].lower()
    for role, name, email in (
        ("consortium_admin", "Avery Admin", "admin@demo.tandem.example"),
        ("coordinator", "Casey Coordinator", f"coordinator.{code}@demo.tandem.example"),
    ):
        body = {
            "institution_id": institution["id"],
            "name": name,
            "email": email,
            "training_level": "faculty",
        }
        person = session.post(f"{enrollment_url}/api/people", json=body, timeout=30)
        person.raise_for_status()
        grant = {
            "role": role,
            "institution_id": None if role == "consortium_admin" else institution["id"],
        }
        granted = session.post(
            f"{enrollment_url}/api/people/{person.json()['id']}/roles", json=grant, timeout=30
        )
        granted.raise_for_status()
        people.append((role, person.json()))
    people += [("mentor", sample["mentor"]), ("mentee", sample["mentee"])]
    password = "demo-" + secrets.token_urlsafe(12)
    # Through the web's own account functions: the web's database is the web's business.
    set_passwords([(person["id"], person["email"]) for _, person in people], password)
    return [
        {"role": role, "email": person["email"], "password": password} for role, person in people
    ]


def _pair_demo_cycles(
    session: requests.Session, pairing: str, cycles: list[tuple[str, str, int]]
) -> int:
    """Run and publish pairing for each demo cycle once pairing has every candidate."""
    published = 0
    for cycle_id, algorithm, expected in cycles:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            response = session.get(f"{pairing}/api/cycles/{cycle_id}/candidates", timeout=10)
            if response.ok and len(response.json()) >= expected:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("the pairing service did not receive the demo enrollments in 60 s")
        body = {"algorithm": algorithm}
        if algorithm == "families":  # up to four juniors with each senior and mid-level
            body["juniors_per_family"] = 4
        run = session.post(f"{pairing}/api/cycles/{cycle_id}/runs", json=body, timeout=60)
        run.raise_for_status()
        publish = session.post(f"{pairing}/api/cycles/{cycle_id}/proposal/publish", timeout=60)
        publish.raise_for_status()
        if algorithm in ("groups", "families"):  # what they publish is groups or families
            units = session.get(f"{pairing}/api/cycles/{cycle_id}/units", timeout=10)
            units.raise_for_status()
            published += len(units.json())
        else:
            published += len(publish.json())
    return published
