"""Certificates: issue and sign; verify offline on this node and for the peer's codes;
every kind of bad code shown plainly as not valid, with its reason, and logged; revocation
at once (here) and through the peer's revocation list; rate limit; who may see what; the
public answers reveal only initials, document type, authority and dates."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import time

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from ctip.audit.models import Action, AuditEvent
from ctip.exchange.core import HandlerRefused, generate_node_keys
from ctip.exchange.models import OutboxMessage
from ctip.exchange.registry import IncomingMessage
from ctip.prevention import codes, services, sync
from ctip.prevention.models import CivilCertificate, PeerRevocation, VerificationAttempt

pytestmark = pytest.mark.django_db

HOLDER, PARTNER, NUMBER = "Canary Sokhapheap", "Zhang Canaryming", "KH-SC-CANARY-991"


def issue(user, authority, **overrides) -> CivilCertificate:
    data = {
        "doc_type": "singleness",
        "authority": authority,
        "number": NUMBER,
        "holder_name": HOLDER,
        "issued_on": timezone.localdate() - dt.timedelta(days=2),
        "valid_until": timezone.localdate() + dt.timedelta(days=180),
        **overrides,
    }
    return services.certificate_issue(user=user, data=services.CertificateInput(**data))


def check(code: str, ip: str = "198.51.100.7"):
    client = Client(REMOTE_ADDR=ip)
    return client.get("/api/v1/prevention/verify", {"code": code})


def signed_by(keys, *, issuer="KH", serial=None, authority="kh-moi-gdi-test", **claims) -> str:
    entry = keys.current("sig", int(time.time()))
    return codes.encode(
        codes.Claims(
            issuer=issuer,
            key=codes.kid_prefix(entry.kid),
            serial=serial or secrets.token_hex(10),
            doc_type=claims.get("doc_type", "singleness"),
            signed_at=int(time.time()),
            issued_on=claims.get("issued_on", timezone.localdate()),
            valid_until=claims.get("valid_until"),
            authority=authority,
            initials=claims.get("initials", "A.B."),
        ),
        entry.key.private_key,
    )


def test_issued_certificate_verifies_and_reveals_only_what_the_code_says(registrar, gdi):
    certificate = issue(registrar, gdi)
    assert certificate.initials == "C.S."
    assert set(certificate.code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert len(certificate.code) < 200  # fits a QR code easily
    # Stored encrypted: the name and number are not in the row's plain columns.
    raw = CivilCertificate.objects.filter(pk=certificate.pk).values(
        "holder_name", "number", "code", "initials"
    )[0]
    assert HOLDER not in str(raw) and NUMBER not in str(raw)

    response = check(certificate.code)
    body = response.json()
    assert response.status_code == 200 and body["result"] == "valid", body
    assert body["initials"] == "C.S." and body["doc_type"] == "singleness"
    assert body["authority"] == "kh-moi-gdi-test" and body["issuer"] == "KH"
    assert body["issued_on"] == str(certificate.issued_on)
    assert "Canary" not in response.content.decode() and "CANARY" not in response.content.decode()

    page = Client(REMOTE_ADDR="198.51.100.8").get("/prevention/verify/", {"c": certificate.code})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-result="valid"' in html and "C.S." in html
    assert "Canary" not in html and "CANARY" not in html and "991" not in html
    # The verification is logged (no address kept, only a keyed hash of it).
    attempts = VerificationAttempt.objects.filter(serial=certificate.serial, result="valid")
    assert attempts.count() == 2
    assert all("198.51" not in a.client and len(a.client) == 32 for a in attempts)


def test_marriage_certificate_names_both_spouses(registrar, gdi):
    with pytest.raises(ValidationError):
        issue(registrar, gdi, doc_type="marriage")
    certificate = issue(registrar, gdi, doc_type="marriage", partner_name=PARTNER)
    assert certificate.initials == "C.S. & Z.C."
    claims, _, _ = codes.decode(certificate.code)
    assert claims.doc_type == "marriage" and claims.initials == "C.S. & Z.C."


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"), None),  # altered signature
        (lambda c: c[:20] + ("A" if c[20] != "A" else "B") + c[21:], None),  # altered claims
        (lambda c: c[:-10], "malformed"),  # truncated
        (lambda c: c + "AAAAAAAA", "malformed"),  # extended
        (lambda c: "", None),  # empty: a form error
        (lambda c: "not a code at all!", "malformed"),
        (lambda c: "A" * 5000, None),  # too long for the form
    ],
)
def test_altered_or_truncated_codes_are_not_valid(registrar, gdi, mutate, reason):
    certificate = issue(registrar, gdi)
    bad = mutate(certificate.code)
    response = check(bad)
    if bad == "" or len(bad) > 600:
        assert response.status_code == 400
        return
    body = response.json()
    assert body["result"] == "invalid", body
    assert body["reason"] in ({reason} if reason else {"bad_signature", "malformed", "unknown_key"})
    assert body["message"] and body["initials"] == "" and body["authority"] == ""
    assert AuditEvent.objects.filter(
        action=Action.SECURITY, details__event="certificate_code_refused"
    ).exists()


def test_code_signed_by_an_unknown_key_is_not_valid(registrar, gdi):
    stranger = generate_node_keys(
        "KH", not_before=int(time.time()) - 100, not_after=int(time.time()) + 1000
    )
    body = check(signed_by(stranger)).json()
    assert body["result"] == "invalid" and body["reason"] == "unknown_key"


def test_code_with_our_key_id_but_another_signature_is_forged(registrar, gdi, kh_keys):
    certificate = issue(registrar, gdi)
    claims, signed, _ = codes.decode(certificate.code)
    stranger = generate_node_keys(
        "KH", not_before=int(time.time()) - 100, not_after=int(time.time()) + 1000
    ).current("sig", int(time.time()))
    forged_signature = stranger.key.private_key.sign(codes.DOMAIN + signed)
    forged = base64.b32encode(signed + forged_signature).decode().rstrip("=")
    body = check(forged).json()
    assert body["result"] == "invalid" and body["reason"] == "bad_signature"


def test_code_signed_with_our_key_but_never_recorded_is_unknown(registrar, gdi, kh_keys):
    body = check(signed_by(kh_keys)).json()
    assert body["result"] == "unknown" and body["reason"] == "no_record"


def test_peer_code_verifies_offline_with_the_pinned_key(cn_peer, cn_keys):
    code = signed_by(cn_keys, issuer="CN", authority="cn-mca", initials="L.N.")
    body = check(code).json()
    assert body["result"] == "valid" and body["issuer"] == "CN" and body["initials"] == "L.N."
    # The CN code signed with a key CN never published is refused.
    stranger = generate_node_keys(
        "CN", not_before=int(time.time()) - 100, not_after=int(time.time()) + 1000
    )
    assert check(signed_by(stranger, issuer="CN", authority="cn-mca")).json()["reason"] == (
        "unknown_key"
    )


def test_code_of_an_issuer_without_pinned_keys_is_not_valid(cn_keys):
    body = check(signed_by(cn_keys, issuer="CN", authority="cn-mca")).json()
    assert body["result"] == "invalid" and body["reason"] == "unknown_issuer"


def test_our_key_cannot_sign_for_the_peer(cn_peer, kh_keys):
    body = check(signed_by(kh_keys, issuer="CN", authority="cn-mca")).json()
    assert body["result"] == "invalid" and body["reason"] == "unknown_key"


def test_expired_certificate(registrar, gdi):
    certificate = issue(
        registrar,
        gdi,
        issued_on=timezone.localdate() - dt.timedelta(days=400),
        valid_until=timezone.localdate() - dt.timedelta(days=35),
    )
    assert check(certificate.code).json()["result"] == "expired"


def test_revocation_shows_at_once_and_is_announced_to_the_peer(registrar, gdi, cn_peer):
    certificate = issue(registrar, gdi)
    assert check(certificate.code).json()["result"] == "valid"
    services.certificate_revoke(user=registrar, certificate=certificate, reason="fraud")
    body = check(certificate.code).json()
    assert body["result"] == "revoked" and body["reason"] == "fraud"
    assert body["message"] == "Obtained by fraud"
    message = OutboxMessage.objects.get(msg_type=sync.REVOCATION_TYPE)
    assert message.peer.node_id == "CN"
    assert HOLDER not in message.body and NUMBER not in message.body
    assert certificate.serial in message.body
    with pytest.raises(ValidationError):
        services.certificate_revoke(user=registrar, certificate=certificate, reason="fraud")


def _incoming(body, sender="CN", msg_type=sync.REVOCATION_TYPE) -> IncomingMessage:
    return IncomingMessage(
        msg_id=secrets.token_hex(8),
        sender=sender,
        msg_type=msg_type,
        schema_version=1,
        body=body,
        case_ref=None,
        purpose=None,
        in_reply_to=None,
        signer_kid="k",
        sent_at=timezone.now(),
        transport="http",
    )


def test_peer_revocation_list_marks_its_code_revoked(cn_peer, cn_keys):
    serial = secrets.token_hex(10)
    code = signed_by(cn_keys, issuer="CN", serial=serial, authority="cn-mca")
    assert check(code).json()["result"] == "valid"
    body = {
        "issuer": "CN",
        "serial": serial,
        "revoked_at": timezone.now().isoformat(),
        "reason": "error",
    }
    sync.handle_revocation(_incoming(body))
    sync.handle_revocation(_incoming(body))  # idempotent
    assert PeerRevocation.objects.count() == 1
    assert check(code).json()["result"] == "revoked"
    # A node may only revoke what it issued.
    with pytest.raises(HandlerRefused):
        sync.handle_revocation(_incoming({**body, "issuer": "KH"}))


def test_verification_is_rate_limited(registrar, gdi):
    certificate = issue(registrar, gdi)
    answers = [
        check(certificate.code, ip="203.0.113.9").status_code for _ in range(services.RATE_LIMIT)
    ]
    assert set(answers) == {200}
    throttled = check(certificate.code, ip="203.0.113.9")
    assert throttled.status_code == 429 and throttled.json()["result"] == "throttled"
    assert check(certificate.code, ip="203.0.113.10").status_code == 200  # another client


def test_issue_rules(registrar, registrar_b, gdi, gdi_office, agency_b, caseworker_a):
    from ctip.accounts.permissions import NotFound

    issue(registrar, gdi_office)  # an office of the registrar's authority
    with pytest.raises(ValidationError):
        issue(registrar, agency_b, number="other-1")  # not the registrar's authority
    with pytest.raises(ValidationError):
        issue(registrar, gdi_office)  # the same number twice at one authority
    with pytest.raises(ValidationError):
        issue(registrar, gdi, number="x-2", issued_on=timezone.localdate() + dt.timedelta(days=1))
    with pytest.raises(NotFound):
        issue(caseworker_a, gdi, number="x-3")


def test_only_registrars_of_the_authority_see_a_certificate(
    registrar, registrar_b, gdi, caseworker_a, client_of
):
    certificate = issue(registrar, gdi)
    page = client_of(registrar).get(f"/prevention/certificates/{certificate.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert HOLDER in html and NUMBER in html and 'id="qr"' in html
    assert AuditEvent.objects.filter(
        action=Action.VIEW, object_id=str(certificate.pk), actor_id=registrar.pk
    ).exists()
    for other in (registrar_b, caseworker_a):
        client = client_of(other)
        assert client.get(f"/prevention/certificates/{certificate.pk}/").status_code == 404
        assert (
            client.post(
                f"/prevention/certificates/{certificate.pk}/revoke/", {"reason": "fraud"}
            ).status_code
            == 404
        )
    assert not CivilCertificate.objects.get(pk=certificate.pk).is_revoked
    listing = client_of(registrar_b).get("/prevention/certificates/").content.decode()
    assert HOLDER not in listing


def test_issue_and_revoke_through_the_pages(registrar, gdi, client_of):
    client = client_of(registrar)
    response = client.post(
        "/prevention/certificates/new/",
        {
            "doc_type": "singleness",
            "authority": gdi.pk,
            "number": "KH-77",
            "holder_name": "Dara Sok",
            "issued_on": str(timezone.localdate()),
        },
    )
    assert response.status_code == 302
    certificate = CivilCertificate.objects.get()
    assert certificate.initials == "D.S." and certificate.issued_by == registrar
    response = client.post(
        f"/prevention/certificates/{certificate.pk}/revoke/", {"reason": "superseded"}
    )
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revocation_reason == "superseded"


def test_api_issue_returns_the_code_and_no_name(registrar, gdi, client_of):
    client = client_of(registrar)
    response = client.post(
        "/api/v1/prevention/certificates",
        {
            "doc_type": "marriage",
            "authority": gdi.code,
            "number": "M-1",
            "holder_name": "Dara Sok",
            "partner_name": "Li Wei",
            "issued_on": str(timezone.localdate()),
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert "Dara" not in response.content.decode() and body["initials"] == "D.S. & L.W."
    assert check(body["code"]).json()["result"] == "valid"
    revoke = client.post(
        f"/api/v1/prevention/certificates/{body['id']}/revoke",
        {"reason": "error"},
        content_type="application/json",
    )
    assert revoke.status_code == 200 and revoke.json()["revoked"] is True
    assert check(body["code"]).json()["result"] == "revoked"


@pytest.mark.urls("ctip.prevention.tests.urls")
def test_root_verify_page_and_the_qr_address(registrar, gdi, client_of):
    certificate = issue(registrar, gdi)
    page = client_of(registrar).get(f"/prevention/certificates/{certificate.pk}/")
    assert f"/verify/?c={certificate.code}" in page.content.decode()
    answer = Client(REMOTE_ADDR="198.51.100.20").get(
        "/verify/", {"c": f"http://x/verify/?c={certificate.code}"}
    )
    assert answer.status_code == 200 and 'data-result="valid"' in answer.content.decode()
    revoked = Client(REMOTE_ADDR="198.51.100.20").get(
        "/verify/", {"c": certificate.code[:-3] + "AAA"}
    )
    assert 'data-result="invalid"' in revoked.content.decode()
    assert "Reason:" in revoked.content.decode()


def test_registrar_home_card_counts_own_authority_only(registrar, registrar_b, gdi):
    from ctip.prevention.cards import cards

    issue(registrar, gdi)
    assert [c.count for c in cards(registrar)] == [1]
    assert [c.count for c in cards(registrar_b)] == [0]


def test_certificate_list_queries_do_not_grow_with_rows(registrar, gdi, client_of):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of(registrar)
    issue(registrar, gdi, number="n-1")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/prevention/certificates/").status_code == 200
    for i in range(2, 6):
        issue(registrar, gdi, number=f"n-{i}")
    with CaptureQueriesContext(connection) as five:
        page = client.get("/prevention/certificates/").content.decode()
    assert page.count(HOLDER) == 5
    # One audit row per shown record is written in one batch: reads stay flat.
    reads = [q for q in five.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    reads_one = [q for q in one.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) == len(reads_one)
