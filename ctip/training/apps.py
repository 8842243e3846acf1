from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "ctip.training"
    label = "training"
