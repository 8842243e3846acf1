"""SECURITY.md #33 (malicious upload), the parts not tried elsewhere: a file name that is a
path (``../``, absolute, Windows-style, with a NUL byte) given where uploads are accepted
(case documents, plan evidence) is never used as a path: nothing is written outside the
database, the download gets a generated name; and a zip bomb given as plan evidence (a
small file that unpacks beyond the limit) is refused with a clear error before it is read.

The multipart bodies are built by hand: Django's test client would strip the directory
part of a file name before sending it, and an attacker's client does not."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.cases.documents import UploadRejected
from ctip.cases.models import CaseDocument
from ctip.cases.services import PersonInput, case_add_document, case_open, person_create
from ctip.plan import services as plan_services
from ctip.plan.models import EvidenceDocument, StatusUpdate

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BOUNDARY = "ctipTestBoundary7MA4YWxkTrZu0gW"


def multipart(fields: dict[str, str], file_field: str, filename: bytes, content: bytes) -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; '.encode()
        + b'filename="'
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def post_file(client, path, fields, file_field, filename: bytes, content: bytes):
    return client.generic(
        "POST",
        path,
        multipart(fields, file_field, filename, content),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def hostile_names(tmp_path) -> list[bytes]:
    """Names that would write ``escaped-*.pdf`` into ``tmp_path`` if used as a path."""
    target = tmp_path / "escaped"
    climb = "../" * 12
    return [
        f"{climb}{str(target).lstrip('/')}-rel.pdf".encode(),
        f"{target}-abs.pdf".encode(),
        f"..\\..\\..\\{target}-win.pdf".encode(),
        f"{target}-nul.pdf\x00.jpg".encode(),
        b"..%2F..%2F" + str(target).encode() + b"-enc.pdf",
    ]


def nothing_escaped(tmp_path) -> None:
    assert not list(tmp_path.glob("escaped*")), "an upload was written where its name said"


@pytest.fixture
def case_a(caseworker_a):
    person = person_create(user=caseworker_a, data=PersonInput(name_latin="UPLOAD TEST"))
    return case_open(user=caseworker_a, person=person, track="cross_border")


def test_case_document_path_names_are_never_paths(case_a, caseworker_a, client_of, tmp_path):
    client = client_of(caseworker_a)
    names = hostile_names(tmp_path)
    for name in names:
        response = post_file(
            client,
            f"/persons/cases/{case_a.pk}/documents/",
            {"kind": "other"},
            "file",
            name,
            PDF,
        )
        # Stored (the name is only a label) or refused; never a server error.
        assert response.status_code in (302, 400), (name, response.status_code)
    nothing_escaped(tmp_path)
    stored = list(CaseDocument.objects.filter(case=case_a))
    assert stored, "no upload was accepted: the test tried nothing"
    for document in stored:
        # Whatever the browser sent, what is kept as a label holds no directory part.
        assert "/" not in document.filename and "\\" not in document.filename
        assert "\x00" not in document.filename
        download = client.get(f"/persons/cases/{case_a.pk}/documents/{document.pk}/")
        assert download.status_code == 200
        disposition = download["Content-Disposition"]
        assert re.fullmatch(
            rf'attachment; filename="{case_a.reference}-[0-9a-f]{{8}}\.pdf"', disposition
        ), disposition


@pytest.mark.parametrize("index", range(5))
def test_case_document_service_keeps_a_path_name_as_a_label_only(
    case_a, caseworker_a, client_of, tmp_path, index
):
    """Called directly (an import, a future API) with the raw name: stored encrypted as a
    label, nothing written to the file system, the download named by the system."""
    name = hostile_names(tmp_path)[index].decode()
    if not name.endswith(".pdf"):  # "x.pdf<NUL>.jpg": the type is taken from the end
        with pytest.raises(UploadRejected, match="does not match its type"):
            case_add_document(
                user=caseworker_a, case=case_a, kind="other", filename=name, content=PDF
            )
        nothing_escaped(tmp_path)
        assert not CaseDocument.objects.exists()
        return
    document = case_add_document(
        user=caseworker_a, case=case_a, kind="other", filename=name, content=PDF
    )
    nothing_escaped(tmp_path)
    document.refresh_from_db()
    assert document.filename == name[-200:]  # a label, kept as given (encrypted)
    download = client_of(caseworker_a).get(f"/persons/cases/{case_a.pk}/documents/{document.pk}/")
    assert download["Content-Disposition"] == (
        f'attachment; filename="{case_a.reference}-{str(document.pk)[:8]}.pdf"'
    )


# --- plan evidence -------------------------------------------------------------------------


@pytest.fixture
def plan():
    return plan_services.plan_load().version


def status_fields() -> dict[str, str]:
    return {
        "country": "KH",
        "step": "",
        "status": "in_progress",
        "as_of": timezone.localdate().isoformat(),
        "note": "",
        "next_step": "",
        "next_step_due": "",
        "evidence_url": "",
    }


def test_plan_evidence_path_names_are_never_paths(plan, supervisor_a, client_of, tmp_path):
    client = client_of(supervisor_a)
    for name in hostile_names(tmp_path):
        response = post_file(
            client,
            "/plan/activities/III.4/status/",
            status_fields(),
            "evidence_file",
            name,
            PDF,
        )
        assert response.status_code in (302, 400), (name, response.status_code)
    nothing_escaped(tmp_path)
    documents = list(EvidenceDocument.objects.all())
    assert documents, "no evidence was accepted: the test tried nothing"
    for doc in documents:
        download = client.get(f"/plan/evidence/{doc.pk}/")
        assert download["Content-Disposition"] == f'attachment; filename="evidence-{doc.pk}.pdf"'


def zip_bomb(unpacked: int) -> bytes:
    """An office document whose one part unpacks to ``unpacked`` bytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as part:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(unpacked // len(chunk)):
                part.write(chunk)
    return buffer.getvalue()


def test_a_zip_bomb_given_as_evidence_is_refused_with_a_clear_error(plan, supervisor_a, client_of):
    bomb = zip_bomb(plan_services.MAX_UNZIPPED_BYTES + 2 * 1024 * 1024)
    assert len(bomb) < plan_services.MAX_EVIDENCE_BYTES // 10  # small on the wire
    # Under the limit the same document is accepted: the refusal is about the size.
    assert plan_services.sniff_evidence(zip_bomb(1024 * 1024))[0] == "docx"
    with pytest.raises(ValidationError, match="unpacks to too much data"):
        plan_services.sniff_evidence(bomb)
    with pytest.raises(ValidationError, match="unpacks to too much data"):
        plan_services.evidence_store(user=supervisor_a, data=bomb)
    assert not EvidenceDocument.objects.exists()

    response = post_file(
        client_of(supervisor_a),
        "/plan/activities/III.4/status/",
        status_fields(),
        "evidence_file",
        b"report.docx",
        bomb,
    )
    assert response.status_code == 400
    assert "unpacks to too much data" in response.content.decode()
    assert not EvidenceDocument.objects.exists() and not StatusUpdate.objects.exists()
