"""The whole suite running for real, for the web's end-to-end and browser tests.

`tandem run` (the supervisor) starts every service API and worker and the web as processes, on
the test broker, with PostgreSQL databases when TEST_DATABASE_URL is set (SQLite files
otherwise) and a real SMTP server on loopback. Tests share one suite per session and keep
out of each other's way by seeding their own institution with `seed_program`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import requests

from services.eventkit import config
from services.eventkit.auth import ADMIN, Grant, Principal, TokenSigner
from services.eventkit.broker import free_ports
from support import SmtpServer, wait_until

PROCESSES = ("web", *config.SERVICES)
PASSWORD = "correct-horse-battery-staple-42"
TOKEN_KEY = "live-suite-" + "k" * 40
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class LiveSuite:
    def __init__(self, workdir: Path, bootstrap: str, database_urls: dict[str, str]) -> None:
        self.workdir = workdir
        self.smtp = SmtpServer()
        self.env = dict(os.environ)
        self.env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "KAFKA_TOPIC_PREFIX": f"live{uuid.uuid4().hex[:8]}.",
                "TANDEM_SERVICE_TOKEN_KEY": TOKEN_KEY,
                "TANDEM_VAR_DIR": str(workdir / "var"),
                "TANDEM_BIND_HOST": "127.0.0.1",
                "WEB_INSECURE_COOKIES": "1",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(self.smtp.port),
                "SMTP_SECURITY": "none",
                "NOTIFY_RETRY_BASE_S": "1",
                "LOG_LEVEL": "INFO",
            }
        )
        ports = iter(free_ports(2 * len(PROCESSES)))
        for name in PROCESSES:
            self.env[f"{name.upper()}_PORT"] = str(next(ports))
            if name != "web":
                self.env[f"{name.upper()}_WORKER_HEALTH_PORT"] = str(next(ports))
        for name, url in database_urls.items():
            self.env[f"{name.upper()}_DATABASE_URL"] = url
        self.env["WEB_PUBLIC_URL"] = self.url
        self.signer = TokenSigner(TOKEN_KEY)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['WEB_PORT']}"

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.env[f'{name.upper()}_PORT']}"

    def start(self) -> None:
        self.smtp.start()
        log = (self.workdir / "supervisor.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tandem.cli", "run"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self._running, timeout_s=120, interval_s=0.5)

    def _running(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the suite exited; see {self.workdir}/supervisor.log")
        return "Tandem is running" in (self.workdir / "supervisor.log").read_text()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.smtp.stop()

    def logs(self) -> str:
        parts = []
        for log in sorted((self.workdir / "var" / "log").glob("*.log")):
            parts.append(f"--- {log.name}\n{log.read_text()[-4000:]}")
        return "\n".join(parts)

    # Calls to the service APIs, as the consortium admin unless told otherwise.

    def token(self, principal: Principal | None = None) -> str:
        return self.signer.mint(principal or Principal("live-admin", (Grant(ADMIN),), "Admin"))

    def api(
        self, service: str, method: str, path: str, json: Any = None, **kwargs: Any
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token(kwargs.pop('principal', None))}"}
        headers.update(kwargs.pop("headers", {}))
        response = requests.request(
            method,
            self.service_url(service) + path,
            json=json,
            headers=headers,
            timeout=60,
            **kwargs,
        )
        return response

    def ok(self, service: str, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        response = self.api(service, method, path, json, **kwargs)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def account(self, person_id: str, email: str, password: str = PASSWORD) -> None:
        """Give an enrolled person a web sign-in with `password`."""
        from services.eventkit.db import make_engine
        from web.accounts import SET, Accounts

        engine = make_engine(self.web_database_url)
        try:
            accounts = Accounts(engine)
            accounts.ensure(person_id, email)
            accounts.set_password(accounts.issue_link(person_id, SET), password)
        finally:
            engine.dispose()

    @property
    def web_database_url(self) -> str:
        return self.env.get("WEB_DATABASE_URL") or f"sqlite:///{self.workdir / 'var' / 'web.db'}"

    def browser_session(self, email: str, password: str = PASSWORD) -> WebSession:
        session = WebSession(self.url)
        session.sign_in(email, password)
        return session


class WebSession(requests.Session):
    """A browser-like client of the web: cookies, and the CSRF token of the last page seen."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.csrf = ""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 60)
        response = super().request(method, url, *args, **kwargs)
        found = (
            CSRF_RE.search(response.text)
            if "html" in response.headers.get("Content-Type", "")
            else None
        )
        if found:
            self.csrf = found.group(1)
        return response

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.get("/sign-in")
        response = self.post(
            "/sign-in",
            data={"email": email, "password": password, "csrf_token": self.csrf},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text
        self.get("/home")

    def form(self, path: str, data: dict | list | None = None, **kwargs: Any) -> requests.Response:
        """POST a form as the page would, with the CSRF token."""
        if isinstance(data, list):
            fields = [*data, ("csrf_token", self.csrf)]
        else:
            fields = {**(data or {}), "csrf_token": self.csrf}
        return self.post(path, data=fields, **kwargs)


@dataclasses.dataclass
class Program:
    """One seeded institution with a program, an open cycle and people who can sign in."""

    institution: dict
    program: dict
    cycle: dict
    coordinator: dict
    mentors: list[dict]
    mentees: list[dict]

    @property
    def cycle_id(self) -> str:
        return self.cycle["id"]


def _letters(index: int) -> str:
    """A, B, ... Z, AA, AB, ...: a name part for any number of people."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def seed_program(
    live: LiveSuite,
    mentors: int = 3,
    mentees: int = 4,
    cycle: dict | None = None,
    wait_for_pairing: bool = True,
) -> Program:
    """A fresh institution (unique names), its coordinator, mentors and mentees, all with
    sign-ins using PASSWORD. Waits until pairing has every candidate unless told not to."""
    tag = secrets.token_hex(3)
    institution = live.ok(
        "enrollment",
        "POST",
        "/api/institutions",
        {
            "name": f"Riverside Hospital {tag}",
            "short_code": f"R{tag}".upper()[:10],
            "time_zone": "America/Chicago",
        },
    )
    program = live.ok(
        "enrollment",
        "POST",
        f"/api/institutions/{institution['id']}/programs",
        {
            "name": "Surgery peer mentoring",
            "program_type": "resident_peer_mentoring",
            "guidelines": "Meet monthly. Agree objectives early. Keep what is shared private.",
        },
    )
    opened = live.ok(
        "enrollment",
        "POST",
        f"/api/programs/{program['id']}/cycles",
        cycle or {"name": "2026-27", "meeting_expectations": "Monthly", "review_months": [6]},
    )

    def person(name: str, level: str) -> dict:
        email = f"{name.lower().replace(' ', '.')}.{tag}@riverside.example"
        body = {
            "institution_id": institution["id"],
            "name": name,
            "email": email,
            "training_level": level,
            "specialty": "General Surgery",
        }
        created = live.ok("enrollment", "POST", "/api/people", body)
        live.account(created["id"], email)
        return created

    coordinator = person("Cora Ordinator", "faculty")
    live.ok(
        "enrollment",
        "POST",
        f"/api/people/{coordinator['id']}/roles",
        {"role": "coordinator", "institution_id": institution["id"]},
    )
    interests = ["trauma", "research", "wellness", "leadership", "global surgery"]
    people: dict[str, list[dict]] = {"mentor": [], "mentee": []}
    for role, count, level in (("mentor", mentors, "PGY4"), ("mentee", mentees, "PGY1")):
        for index in range(count):
            someone = person(f"{role.title()} {_letters(index)} Example", level)
            live.ok(
                "enrollment",
                "POST",
                f"/api/cycles/{opened['id']}/enrollments",
                {
                    "person_id": someone["id"],
                    "role": role,
                    "interests": [interests[index % 5], interests[(index + 1) % 5]],
                    "capacity": 2 if role == "mentor" else None,
                },
            )
            people[role].append(someone)
    if wait_for_pairing:
        path = f"/api/cycles/{opened['id']}/candidates"

        def arrived() -> bool:
            response = live.api("pairing", "GET", path)
            return response.ok and len(response.json()) >= mentors + mentees

        wait_until(arrived, timeout_s=60)
    return Program(institution, program, opened, coordinator, people["mentor"], people["mentee"])


def seed_admin(live: LiveSuite) -> dict:
    """A consortium admin with a web sign-in (password PASSWORD), at a consortium office."""
    tag = secrets.token_hex(3)
    office = live.ok(
        "enrollment",
        "POST",
        "/api/institutions",
        {"name": f"Consortium office {tag}", "short_code": f"OFF{tag}".upper(), "time_zone": "UTC"},
    )
    email = f"admin.{tag}@consortium.example"
    person = live.ok(
        "enrollment",
        "POST",
        "/api/people",
        {
            "institution_id": office["id"],
            "name": "Ada Administrator",
            "email": email,
            "training_level": "faculty",
        },
    )
    live.ok("enrollment", "POST", f"/api/people/{person['id']}/roles", {"role": "consortium_admin"})
    live.account(person["id"], email)
    return {**person, "office": office}


def seed_program_coordinator(live: LiveSuite, institution_id: str, program_id: str) -> dict:
    """A coordinator of one program only, with a web sign-in (password PASSWORD)."""
    email = f"pc.{secrets.token_hex(3)}@riverside.example"
    person = live.ok(
        "enrollment",
        "POST",
        "/api/people",
        {"institution_id": institution_id, "name": "Pat Program", "email": email,
         "training_level": "faculty"},
    )  # fmt: skip
    live.ok(
        "enrollment",
        "POST",
        f"/api/people/{person['id']}/roles",
        {"role": "coordinator", "institution_id": institution_id, "program_id": program_id},
    )
    live.account(person["id"], email)
    return {**person, "email": email}


def seed_second_program(live: LiveSuite, institution_id: str) -> tuple[dict, dict]:
    """Another program of the institution, with an open cycle: (program, cycle)."""
    program = live.ok(
        "enrollment",
        "POST",
        f"/api/institutions/{institution_id}/programs",
        {"name": "Lab resident coaching", "program_type": "resident_peer_mentoring",
         "guidelines": "Meet every month."},
    )  # fmt: skip
    cycle = live.ok(
        "enrollment", "POST", f"/api/programs/{program['id']}/cycles", {"name": "Lab 2026"}
    )
    return program, cycle


def publish_pairs(live: LiveSuite, program: Program) -> list[dict]:
    """Run stable pairing on the seeded cycle and publish it; the published pairs."""
    live.ok("pairing", "POST", f"/api/cycles/{program.cycle_id}/runs", {"algorithm": "stable"})
    live.ok("pairing", "POST", f"/api/cycles/{program.cycle_id}/proposal/publish", {})
    return live.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs")
