"""``ctip case_reminders``: send the deadline reminders now (what the worker does hourly)."""

from django.core.management.base import BaseCommand

from ctip.cases.services import stage_reminders_send


class Command(BaseCommand):
    help = "Send reminders for SOP stages and repatriation steps that are due or overdue."

    def handle(self, *args, **options):
        sent = stage_reminders_send()
        for reminder in sent:
            self.stdout.write(
                f"{reminder.case.reference} {reminder.stage} {reminder.step or '-'} "
                f"{reminder.threshold} -> {reminder.recipients.count()} recipient(s)"
            )
        self.stdout.write(f"{len(sent)} reminder(s) sent")
