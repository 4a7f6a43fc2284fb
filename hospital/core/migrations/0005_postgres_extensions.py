"""PostgreSQL extensions the domain apps rely on: trigram search and GiST over btree types (exclusion constraints)."""

from django.contrib.postgres.operations import BtreeGistExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0004_access_log_append_only")]

    operations = [TrigramExtension(), BtreeGistExtension()]
