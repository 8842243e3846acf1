from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from ctip.accounts.models import Agency, Role
from ctip.accounts.services import user_create


class Command(BaseCommand):
    help = "Manage users: 'user add --username U --role R [--role R2] --agency CODE'."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a user with a password and a TOTP secret")
        add.add_argument("--username", required=True)
        add.add_argument("--role", action="append", required=True, choices=Role.values)
        add.add_argument("--agency", required=True, help="agency code")
        add.add_argument("--password", help="default: a random one, printed once")
        add.add_argument("--language", default="en", choices=["en", "km", "zh-hans"])

    def handle(self, *args, action, **options):
        agency = Agency.objects.filter(code=options["agency"]).first()
        if agency is None:
            raise CommandError(f"--agency: no agency with code {options['agency']!r}", returncode=2)
        try:
            new = user_create(
                actor=None,
                username=options["username"],
                agency=agency,
                roles=options["role"],
                password=options["password"],
                language=options["language"],
            )
        except IntegrityError:
            raise CommandError(
                f"--username: {options['username']!r} is taken", returncode=2
            ) from None
        except ValidationError as exc:
            fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(f"invalid user: {fields}", returncode=2) from None
        self.stdout.write(
            f"Created user {new.user.username} ({', '.join(options['role'])}) at {agency.code}"
        )
        self.stdout.write(f"password: {new.password}")
        self.stdout.write(f"two-factor secret (TOTP, base32): {new.totp_secret}")
        self.stdout.write(f"authenticator URI: {new.totp_uri}")
