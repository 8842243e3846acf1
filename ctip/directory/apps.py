from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "ctip.directory"
    label = "directory"
