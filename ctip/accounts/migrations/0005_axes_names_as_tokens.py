"""django-axes now stores a keyed token of the name typed at sign-in, not the name
(``ctip/accounts/lockout.py``). Failed tries recorded before keep counting against the same
account: their names become tokens. Without a key ring there is no token to make, and they
are deleted instead (a lock held at the upgrade is lifted; it would lift within 30 minutes
anyway). The names kept by axes' failure log, off by default, are turned into tokens too."""

from django.db import migrations


def names_to_tokens(apps, schema_editor):
    tables = [apps.get_model("axes", "AccessAttempt"), apps.get_model("axes", "AccessFailureLog")]
    if not any(model.objects.exclude(username=None).exists() for model in tables):
        return
    from ctip.accounts.lockout import name_token
    from ctip.core.crypto import CryptoError

    try:
        name_token("")
    except CryptoError:
        for model in tables:
            model.objects.all().delete()
        return
    attempts, failure_log = tables
    for row in failure_log.objects.exclude(username=None).only("pk", "username").iterator():
        failure_log.objects.filter(pk=row.pk).update(username=name_token(row.username))
    # Two spellings of one name ("Sokha", "sokha ") give one token: their counts add up, as
    # axes counts them from now on (one row per token, address and browser).
    for row in list(attempts.objects.exclude(username=None).order_by("pk")):
        token = name_token(row.username)
        same = attempts.objects.filter(
            username=token, ip_address=row.ip_address, user_agent=row.user_agent
        ).first()
        if same is None:
            attempts.objects.filter(pk=row.pk).update(username=token)
        else:
            same.failures_since_start += row.failures_since_start
            same.attempt_time = max(same.attempt_time, row.attempt_time)
            same.save(update_fields=["failures_since_start", "attempt_time"])
            row.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_session_generation"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(names_to_tokens, migrations.RunPython.noop)]
