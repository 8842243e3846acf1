from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from ctip.accounts.models import Agency, Role, User
from ctip.accounts.services import (
    role_remove,
    user_create,
    user_sessions_end,
    user_set_active,
    user_set_password,
    user_unlock,
)


class Command(BaseCommand):
    help = (
        "Manage users: 'user add --username U --role R [--role R2] --agency CODE'; "
        "'user end-sessions --username U' signs the user out everywhere at once; "
        "'user unlock --username U' lifts a sign-in lock after failed attempts; "
        "'user deactivate', 'user activate', 'user password' (a new random password, printed "
        "once) and 'user remove-role --role R' (the last three also end the user's sessions)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a user with a password and a TOTP secret")
        add.add_argument("--username", required=True)
        add.add_argument("--role", action="append", required=True, choices=Role.values)
        add.add_argument("--agency", required=True, help="agency code")
        add.add_argument("--password", help="default: a random one, printed once")
        add.add_argument("--language", default="en", choices=["en", "km", "zh-hans"])
        for name, text in (
            ("end-sessions", "end every session of the user now"),
            ("deactivate", "deactivate the user and end their sessions"),
            ("activate", "let a deactivated user sign in again"),
            ("password", "set a new random password (printed once) and end their sessions"),
            ("unlock", "lift a sign-in lock after failed attempts (forgets the attempts)"),
        ):
            sub.add_parser(name, help=text).add_argument("--username", required=True)
        remove = sub.add_parser("remove-role", help="take a role away and end their sessions")
        remove.add_argument("--username", required=True)
        remove.add_argument("--role", required=True, choices=Role.values)

    def handle(self, *args, action, **options):
        if action == "add":
            return self._add(options)
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"--username: no user {options['username']!r}", returncode=2)
        if action == "end-sessions":
            ended = user_sessions_end(actor=None, user=user)
            self.stdout.write(f"Ended the sessions of {user.username} ({ended} open)")
        elif action == "unlock":
            if user_unlock(actor=None, user=user):
                self.stdout.write(f"Unlocked sign-in of {user.username}")
            else:
                self.stdout.write(f"{user.username} was not locked")
        elif action in ("deactivate", "activate"):
            user_set_active(actor=None, user=user, active=action == "activate")
            done = "Activated" if action == "activate" else "Deactivated (sessions ended)"
            self.stdout.write(f"{done}: {user.username}")
        elif action == "password":
            password = f"{secrets.token_urlsafe(12)}-{secrets.token_hex(2)}"
            user_set_password(actor=None, user=user, password=password)
            self.stdout.write(f"New password of {user.username} (sessions ended): {password}")
        elif action == "remove-role":
            try:
                role_remove(actor=None, user=user, role=options["role"])
            except ValueError:
                raise CommandError(
                    f"--role: {user.username} does not hold {options['role']!r}", returncode=2
                ) from None
            self.stdout.write(f"Removed {options['role']} from {user.username} (sessions ended)")
        return None

    def _add(self, options):
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
