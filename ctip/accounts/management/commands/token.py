from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ctip.accounts.models import User
from ctip.accounts.services import token_create


class Command(BaseCommand):
    help = "Print a new API token for a user (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--username: no active user {username!r}", returncode=2)
        self.stdout.write(token_create(actor=None, user=user))
