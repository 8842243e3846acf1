"""Writes of the matching app: duplicate candidates, the nightly sweep, review decisions,
merge and unmerge. Every write is audited in its own transaction; a merge or unmerge
never changes or deletes a Person (links are added and closed)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ctip.accounts import permissions
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.cases.models import Person
from ctip.core.crypto import CryptoError, index_token
from ctip.matching.core.dates import BirthRange
from ctip.matching.core.engine import (
    EngineConfig,
    Features,
    FellegiSunter,
    block_limit,
    blocking_keys,
    compare_pair,
    default_model,
    level_label,
    match_records,
    prepare,
)
from ctip.matching.core.people import PersonRecord
from ctip.matching.core.places import place_chain, resolve_place
from ctip.matching.models import (
    CandidateStatus,
    FoundBy,
    MatchCandidate,
    PersonKey,
    PersonLink,
    TrainedModel,
)

RESOURCE = "matching"

#: Weights used until a sweep has trained some on this node's own records.
DEFAULT_PARAMETERS = default_model().as_dict()
CONFIG = EngineConfig()


class MergeRefused(ValidationError):
    pass


# --- persons as engine records ----------------------------------------------------------


def person_birth(person: Person) -> BirthRange | None:
    if person.birth_year:
        if person.birth_month and person.birth_day:
            try:
                return BirthRange.exact(
                    date(person.birth_year, person.birth_month, person.birth_day)
                )
            except ValueError:
                return BirthRange.year(person.birth_year)
        if person.birth_month:
            return BirthRange.year_month(person.birth_year, person.birth_month)
        return BirthRange.year(person.birth_year)
    if person.age_estimate is not None:
        return BirthRange.from_age(person.age_estimate, person.created_at.date())
    return None


def person_record(person: Person) -> PersonRecord:
    names = [person.name_km, person.name_zh, person.name_latin]
    names += [a.strip() for a in (person.aliases or "").split(";")]
    sex = {"female": "F", "male": "M"}.get(person.sex)
    return PersonRecord(
        id=str(person.pk),
        names=tuple(n for n in names if n),
        sex=sex,
        birth=person_birth(person),
        nationality=person.nationality or None,
        place=person_place(person),
    )


def person_place(person: Person) -> tuple[str, ...]:
    """The place of origin as reference codes: the chosen reference place, else what the
    free-text place names, else nothing."""
    chain = place_chain(person.origin_code or "")
    if not chain and person.place_of_origin:
        chain = resolve_place(person.place_of_origin)
    return chain


def readable_records(persons: Iterable[Person]) -> list[tuple[Person, PersonRecord]]:
    """(person, record) for every person whose names can be read; a crypto-shredded one
    (its data key destroyed) is left out, never an error."""
    out = []
    for person in persons:
        try:
            out.append((person, person_record(person)))
        except CryptoError:
            continue
    return out


def current_model() -> FellegiSunter:
    trained = TrainedModel.objects.order_by("-created_at").first()
    if trained is not None:
        try:
            return FellegiSunter.from_dict(trained.parameters)
        except (KeyError, ValueError, TypeError):
            pass
    return FellegiSunter.from_dict(DEFAULT_PARAMETERS)


def _evidence(model: FellegiSunter, vector) -> list[list]:
    return [
        [name, level_label(name, level), round(w, 2)]
        for name, level, w in model.bayes_factors(vector)
    ]


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _linked_or_decided() -> set[tuple[str, str]]:
    return {
        (str(left), str(right))
        for left, right in MatchCandidate.objects.values_list("left_id", "right_id")
    }


def _candidate_create(left: str, right: str, probability: float, evidence, found_by: str):
    left, right = _pair(left, right)
    candidate = MatchCandidate(
        left_id=left,
        right_id=right,
        probability=min(max(probability, 0.0), 1.0),
        evidence=evidence,
        found_by=found_by,
    )
    candidate.full_clean(validate_unique=False)
    candidate.save(force_insert=True)
    audit_record(
        actor=None,
        action=Action.CREATE,
        obj=candidate,
        details={"found_by": found_by, "probability": round(candidate.probability, 3)},
    )
    return candidate


def _persons() -> list[Person]:
    # Sealed records are never offered as duplicates (DP-5).
    return list(Person.objects.filter(sealed=False).select_related("data_key"))


def _tokens(f: Features) -> dict[str, str]:
    """{keyed token: blocking rule} of one record's blocking keys."""
    return {
        index_token(key, f"matching.block.{rule}"): rule
        for rule, keys in blocking_keys(f).items()
        for key in keys
    }


#: The token of a person whose record makes no blocking key (no name, say): it marks the
#: person as keyed, so it is not read again to find it has none.
NO_KEYS = "-"


def _keys_store(pairs: Iterable[tuple[str, Iterable[str]]], *, replace: bool = True) -> None:
    """Store the blocking-key tokens of these persons, replacing theirs (``replace=False``
    for persons known to have none: no delete with one parameter per person, which a
    sweep of a large node would push past the database's limit)."""
    pairs = [(pk, list(tokens) or [NO_KEYS]) for pk, tokens in pairs]
    if replace:
        PersonKey.objects.filter(person_id__in=[pk for pk, _ in pairs]).delete()
    PersonKey.objects.bulk_create(
        [PersonKey(person_id=pk, token=t) for pk, tokens in pairs for t in tokens],
        batch_size=2000,
    )


def _key_the_unkeyed() -> None:
    """Store the keys of unsealed persons that have none yet (created before the key table,
    or while the background worker was down): read once, then found by their keys."""
    unkeyed = Person.objects.filter(sealed=False).exclude(
        pk__in=PersonKey.objects.values("person_id")
    )
    persons = list(unkeyed.select_related("data_key"))
    records = [record for _, record in readable_records(persons)]
    unreadable = {str(p.pk) for p in persons} - {r.id for r in records}  # crypto-shredded
    _keys_store(
        [*((f.id, _tokens(f)) for f in prepare(records, CONFIG)), *((pk, []) for pk in unreadable)],
        replace=False,
    )


#: Tokens asked for in one query (SQLite's limit on variables is far above).
_TOKENS_PER_QUERY = 500


def _sharing(tokens: dict[str, str], person_id) -> set:
    """Unsealed persons sharing a blocking key with this one, per block as the engine
    blocks: a key shared by more persons than its rule's block limit is skipped."""
    found: dict[str, set] = defaultdict(set)
    listed = list(tokens)
    for start in range(0, len(listed), _TOKENS_PER_QUERY):
        rows = (
            PersonKey.objects.filter(
                token__in=listed[start : start + _TOKENS_PER_QUERY], person__sealed=False
            )
            .exclude(person_id=person_id)
            .values_list("token", "person_id")
        )
        for token, other in rows:
            found[token].add(other)
    out: set = set()
    for token, others in found.items():
        if len(others) + 1 <= block_limit(tokens[token], CONFIG):
            out |= others
    return out


@transaction.atomic
def candidates_for_person(*, person_id) -> list[MatchCandidate]:
    """Duplicate candidates for one (new) person: its blocking keys are stored (keyed), and
    it is compared with the unsealed persons sharing one — only those are decrypted."""
    person = Person.objects.filter(pk=person_id, sealed=False).select_related("data_key").first()
    readable = readable_records([person]) if person is not None else []
    if not readable:
        return []
    feat = prepare([readable[0][1]], CONFIG)[0]
    tokens = _tokens(feat)
    _keys_store([(person.pk, tokens)])
    _key_the_unkeyed()
    others = Person.objects.filter(pk__in=_sharing(tokens, person.pk), sealed=False)
    records = [record for _, record in readable_records(others.select_related("data_key"))]
    model = current_model()
    known = _linked_or_decided()
    created = []
    for other in prepare(sorted(records, key=lambda r: r.id), CONFIG):
        vector = compare_pair(feat, other, model.fields)
        p = model.probability(vector)
        key = _pair(feat.id, other.id)
        if p >= CONFIG.review_probability and key not in known:
            known.add(key)
            created.append(_candidate_create(*key, p, _evidence(model, vector), FoundBy.NEW_PERSON))
    return created


@transaction.atomic
def matching_sweep() -> dict[str, int]:
    """The nightly sweep: retrain the weights on all records, offer new candidates."""
    records = [record for _, record in readable_records(_persons())]
    result = match_records(records, CONFIG)
    # Every person's blocking keys, afresh (names edited since, persons from before the
    # key table, a changed engine).
    PersonKey.objects.all().delete()
    _keys_store(((f.id, _tokens(f)) for f in prepare(records, CONFIG)), replace=False)
    TrainedModel.objects.create(
        parameters=result.model.as_dict(), records=len(records), pairs=result.blocking.pairs
    )
    known = _linked_or_decided()
    created = 0
    for pair in result.pairs:
        key = _pair(pair.left_id, pair.right_id)
        if key in known:
            continue
        known.add(key)
        _candidate_create(
            *key, pair.probability, _evidence(result.model, pair.vector), FoundBy.SWEEP
        )
        created += 1
    audit_record(
        actor=None,
        action=Action.CREATE,
        object_type="matching.sweep",
        details={"records": len(records), "pairs": result.blocking.pairs, "candidates": created},
    )
    return {"records": len(records), "pairs": result.blocking.pairs, "candidates": created}


# --- review, merge, unmerge ---------------------------------------------------------------


def _both_visible(user, persons: Iterable[Person], request=None) -> None:
    """Refuse (as not found) unless the user may see every person involved."""
    for person in persons:
        permissions.access(
            user, "person", Person.objects.all(), person.pk, permissions.VIEW, request=request
        )


def _active_link(person_id) -> PersonLink | None:
    return PersonLink.objects.filter(person_id=person_id, unlinked_at__isnull=True).first()


def cluster_members(person_id) -> list[str]:
    link = _active_link(person_id)
    if link is None:
        return [str(person_id)]
    return [
        str(pk)
        for pk in PersonLink.objects.filter(
            cluster=link.cluster, unlinked_at__isnull=True
        ).values_list("person_id", flat=True)
    ]


def person_merge(
    *, user, left: Person, right: Person, candidate: MatchCandidate | None = None, request=None
) -> uuid.UUID:
    """Put two persons (and the clusters they are in) into one cluster. Both records stay
    as they are. Refused unless the user may see both sides, every member included (the
    checks run before the writing transaction, so the logged denial is kept)."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    if left.pk == right.pk:
        raise MergeRefused(_("A person cannot be merged with itself."))
    _both_visible(user, [left, right], request=request)
    members = {*cluster_members(left.pk), *cluster_members(right.pk)}
    _both_visible(user, Person.objects.filter(pk__in=members), request=request)
    return _person_merge(user=user, left=left, right=right, candidate=candidate, request=request)


@transaction.atomic
def _person_merge(
    *, user, left: Person, right: Person, candidate: MatchCandidate | None, request
) -> uuid.UUID:
    members = {*cluster_members(left.pk), *cluster_members(right.pk)}
    if len(members) != len(
        {str(p) for p in Person.objects.filter(pk__in=members).values_list("pk", flat=True)}
    ):
        raise MergeRefused(_("A person in the merged group no longer exists."))
    now = timezone.now()
    left_link, right_link = _active_link(left.pk), _active_link(right.pk)
    if left_link and right_link and left_link.cluster == right_link.cluster:
        return left_link.cluster
    cluster = left_link.cluster if left_link else None
    if cluster is None:
        cluster = right_link.cluster if right_link else uuid.uuid4()
    for pk in sorted(members):
        old = _active_link(pk)
        if old is not None and old.cluster == cluster:
            continue
        if old is not None:
            old.unlinked_at, old.unlinked_by = now, user
            old.save(update_fields=["unlinked_at", "unlinked_by"])
        link = PersonLink(
            cluster=cluster, person_id=pk, candidate=candidate, linked_at=now, linked_by=user
        )
        link.full_clean(validate_constraints=False)
        link.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="matching.cluster",
        object_id=str(cluster),
        details={"merge": sorted(str(x) for x in (left.pk, right.pk)), "members": len(members)},
        request=request,
    )
    return cluster


def person_unmerge(*, user, person: Person, request=None) -> list[str]:
    """Take a person out of its cluster (closing, not deleting, the link). A cluster left
    with one member is closed too. Returns the ids whose links were closed. Refused unless
    the user may see every member."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    members = cluster_members(person.pk)
    _both_visible(user, Person.objects.filter(pk__in=members), request=request)
    return _person_unmerge(user=user, person=person, request=request)


@transaction.atomic
def _person_unmerge(*, user, person: Person, request) -> list[str]:
    link = (
        PersonLink.objects.select_for_update()
        .filter(person_id=person.pk, unlinked_at__isnull=True)
        .first()
    )
    if link is None:
        raise MergeRefused(_("The person is not merged with anyone."))
    now = timezone.now()
    closed = [link]
    rest = PersonLink.objects.filter(cluster=link.cluster, unlinked_at__isnull=True).exclude(
        pk=link.pk
    )
    if rest.count() == 1:
        closed.append(rest.get())
    for item in closed:
        item.unlinked_at, item.unlinked_by = now, user
        item.save(update_fields=["unlinked_at", "unlinked_by"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="matching.cluster",
        object_id=str(link.cluster),
        details={"unmerge": [str(x.person_id) for x in closed]},
        request=request,
    )
    return [str(x.person_id) for x in closed]


def candidate_decide(
    *, user, candidate: MatchCandidate, decision: str, request=None
) -> MatchCandidate:
    """Confirm (and merge), reject, or mark 'not sure'. Refused unless the user may see
    both persons and, to confirm, every person already merged with either (as for
    ``person_merge``; the checks run before the writing transaction, so the logged denial
    is kept)."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    if decision not in {
        CandidateStatus.CONFIRMED,
        CandidateStatus.REJECTED,
        CandidateStatus.UNSURE,
    }:
        raise ValidationError({"decision": _("Choose same person, different people or not sure.")})
    left = Person.objects.get(pk=candidate.left_id)
    right = Person.objects.get(pk=candidate.right_id)
    _both_visible(user, [left, right], request=request)
    if decision == CandidateStatus.CONFIRMED:
        members = {*cluster_members(left.pk), *cluster_members(right.pk)}
        _both_visible(user, Person.objects.filter(pk__in=members), request=request)
    return _candidate_decide(
        user=user, candidate=candidate, decision=decision, left=left, right=right, request=request
    )


@transaction.atomic
def _candidate_decide(
    *, user, candidate: MatchCandidate, decision: str, left: Person, right: Person, request
) -> MatchCandidate:
    candidate = MatchCandidate.objects.select_for_update().get(pk=candidate.pk)
    if (
        candidate.status == CandidateStatus.CONFIRMED
        and decision != CandidateStatus.CONFIRMED
        and str(right.pk) in cluster_members(left.pk)
    ):
        # Rejecting a pair that is merged would leave it merged: the merge is undone on its
        # own (unmerge), with its history, and the pair can then be decided again.
        raise MergeRefused(
            _("These records were confirmed and merged: take one out of the merged person first.")
        )
    candidate.status = decision
    candidate.decided_at = timezone.now()
    candidate.decided_by = user
    candidate.full_clean(validate_unique=False)
    candidate.save(update_fields=["status", "decided_at", "decided_by"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=candidate,
        details={"decision": decision},
        request=request,
    )
    if decision == CandidateStatus.CONFIRMED:
        _person_merge(user=user, left=left, right=right, candidate=candidate, request=request)
    return candidate
