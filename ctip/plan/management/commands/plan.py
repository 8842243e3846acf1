from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ctip.plan import document, selectors, services


class Command(BaseCommand):
    help = (
        "The Joint Plan of Action: 'plan load [--file F] [--reason R]' loads the plan file "
        "(version 1 by default; a changed file needs a reason and becomes a new version); "
        "'plan export --format json [--output F]' writes the current version with its status."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load", "export"])
        parser.add_argument("--file", help="plan file (YAML or JSON); default: the draft")
        parser.add_argument("--reason", default="", help="why (for an amendment)")
        parser.add_argument("--meeting", default="", help="the meeting that decided it")
        parser.add_argument("--format", choices=["json", "yaml"], default="json")
        parser.add_argument("--output", help="write to this file instead of standard output")

    def handle(self, *args, action, **options):
        if action == "load":
            return self.load(options)
        return self.export(options)

    def load(self, options):
        path = Path(options["file"]) if options["file"] else services.DEFAULT_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                f"--file: cannot read {path}: {exc.strerror}", returncode=2
            ) from None
        try:
            result = services.plan_load(
                text=text, reason=options["reason"], meeting=options["meeting"]
            )
        except document.PlanFileError as exc:
            raise CommandError(f"{path.name}: {exc}; nothing was loaded", returncode=1) from None
        except services.PlanError as exc:
            raise CommandError(f"{path.name}: {exc}", returncode=1) from None
        doc = result.version.content
        questions = sum(
            1 for a in doc["activities"] for q in a["questions"] if q["status"] == "open"
        )
        self.stdout.write(
            f"{result.message}: {len(doc['areas'])} areas, {len(doc['activities'])} activities, "
            f"{questions} open questions, {len(doc['financial_notes'])} financial notes"
        )

    def export(self, options):
        data = selectors.export_document()
        if data is None:
            raise CommandError("the plan is not loaded yet (ctip plan load)", returncode=1)
        if options["format"] == "json":
            text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        else:
            import yaml

            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stdout.write(
                f"plan version {data['version']['number']} written to {options['output']}"
            )
        else:
            self.stdout.write(text, ending="")
