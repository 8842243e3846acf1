"""``ctip match answers``: the node operator's list of sent match queries, newest first,
the newest 50 unless ``--all`` (or ``--limit``), filtered by day, person, peer and state.
Bad input is refused naming the option. The list holds references, handles, scores and
refusal codes, never a name (it writes no audit row, like the API's query list)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ctip.audit.models import AuditEvent
from ctip.cases.services import PersonInput, person_create
from ctip.matching.models import MatchQuery, QueryDirection

pytestmark = pytest.mark.django_db

CANARY = "Canaryanswers Vqzk"


def sent(person, user, *, at, answer=None, refused="", answered=True, peer="CN") -> MatchQuery:
    """A query about ``person`` sent at ``at``, as the exchange leaves it: waiting, refused,
    answered with nobody, or answered with one handle per score in ``answer``."""
    return MatchQuery.objects.create(
        direction=QueryDirection.OUT,
        peer=peer,
        query_id="q" + secrets.token_hex(8),
        key_id="k1",
        person=person,
        asked_by=user,
        created_at=at,
        answered_at=at + timedelta(minutes=5) if answered else None,
        refused=refused,
        answer=[{"handle": secrets.token_urlsafe(18), "score": s} for s in answer or ()],
    )


def answers(*args) -> tuple[list[dict], str]:
    out, err = StringIO(), StringIO()
    call_command("match", "answers", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def ids(rows) -> list[str]:
    return [row["query_id"] for row in rows]


@pytest.fixture
def queries(caseworker_a, sokha):
    """Four queries about Sokha on four days, one in each state, and one about another
    person (a canary name) sent to KH, the newest."""
    other = person_create(user=caseworker_a, data=PersonInput(name_latin=CANARY, sex="male"))
    now = timezone.now()
    return {
        "waiting": sent(sokha, caseworker_a, at=now - timedelta(days=1), answered=False),
        "refused": sent(sokha, caseworker_a, at=now - timedelta(days=2), refused="rate_limited"),
        "no-match": sent(sokha, caseworker_a, at=now - timedelta(days=3)),
        "matched": sent(sokha, caseworker_a, at=now - timedelta(days=4), answer=[0.93, 0.84]),
        "other": sent(other, caseworker_a, at=now - timedelta(hours=1), answer=[0.81], peer="KH"),
    }


def test_every_query_newest_first_with_its_state(queries, sokha):
    rows, note = answers()
    order = ["other", "waiting", "refused", "no-match", "matched"]
    assert ids(rows) == [queries[name].query_id for name in order]
    assert [row["status"] for row in rows] == ["matched", *order[1:]]
    assert note == ""
    matched = rows[-1]
    assert matched["person"] == sokha.reference and matched["asked_by"] == "caseworker_a"
    assert [c["score"] for c in matched["candidates"]] == [0.93, 0.84]
    assert matched["answered"] and matched["refused"] == ""
    assert (rows[1]["answered"], rows[1]["answered_at"]) == (False, None)
    assert rows[2]["refused"] == "rate_limited"


@pytest.mark.parametrize("state", ["waiting", "refused", "no-match", "matched"])
def test_status_filter(queries, state):
    rows, _ = answers("--status", state, "--person", str(queries["waiting"].person_id))
    assert ids(rows) == [queries[state].query_id]


def test_person_by_id_or_reference_peer_and_since(queries, sokha):
    about_sokha = [queries[n].query_id for n in ("waiting", "refused", "no-match", "matched")]
    assert ids(answers("--person", str(sokha.pk))[0]) == about_sokha
    assert ids(answers("--person", sokha.reference)[0]) == about_sokha
    assert ids(answers("--peer", "kh")[0]) == [queries["other"].query_id]
    # A day counts from its midnight in the node's time zone; a time from that minute.
    day = timezone.localdate(queries["refused"].created_at).isoformat()
    assert ids(answers("--since", day, "--person", sokha.reference)[0]) == about_sokha[:2]
    after = timezone.localtime(queries["refused"].created_at + timedelta(minutes=1))
    since = after.strftime("%Y-%m-%dT%H:%M")
    assert ids(answers("--since", since, "--person", sokha.reference)[0]) == about_sokha[:1]
    assert ids(answers("--since", since, "--status", "matched")[0]) == [queries["other"].query_id]


def test_the_newest_fifty_unless_all_or_a_limit(caseworker_a, sokha):
    start = timezone.now() - timedelta(days=60)
    made = [sent(sokha, caseworker_a, at=start + timedelta(hours=i)) for i in range(52)]
    newest_first = [q.query_id for q in reversed(made)]
    rows, note = answers()
    assert ids(rows) == newest_first[:50]
    assert note.strip() == "The newest 50 of 52 queries; --all for every one."
    rows, note = answers("--all")
    assert ids(rows) == newest_first and note == ""
    rows, note = answers("--limit", "3", "--status", "no-match")
    assert ids(rows) == newest_first[:3] and "of 52 queries" in note
    rows, note = answers("--limit", "52")
    assert len(rows) == 52 and note == ""


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--since", "last week"], "--since"),
        (["--since", "2026-02-30"], "--since"),
        (["--person", "P-NOSUCH"], "--person"),
        (["--person", "00000000-0000-4000-8000-00000000abcd"], "--person"),
        (["--status", "answered"], "--status"),
        (["--limit", "0"], "--limit"),
        (["--limit", "3", "--all"], "--all"),
    ],
)
def test_bad_input_is_refused_naming_the_option(queries, args, option):
    with pytest.raises(CommandError, match=option):
        answers(*args)


def test_no_personal_data_in_the_list(queries):
    before = AuditEvent.objects.count()
    rows, _ = answers("--all")
    text = json.dumps(rows, ensure_ascii=False)
    assert CANARY.split()[0] not in text and "CHAN SOKHA" not in text and "សុខា" not in text
    assert {key for row in rows for key in row} == {
        "query_id",
        "peer",
        "person",
        "asked_by",
        "sent_at",
        "status",
        "answered",
        "answered_at",
        "refused",
        "candidates",
    }
    assert {key for row in rows for c in row["candidates"] for key in c} == {"handle", "score"}
    assert datetime.fromisoformat(rows[0]["sent_at"]).tzinfo is not None
    assert AuditEvent.objects.count() == before
