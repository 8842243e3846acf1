"""Outbox messages can be cancelled (consent withdrawn, DP-8): a status and its time.

Adding a nullable column, a new choice and a check constraint: the same on SQLite and
PostgreSQL; existing rows are not cancelled, so the constraint holds for them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exchange', '0002_log_append_only'),
    ]

    operations = [
        migrations.AddField(
            model_name='outboxmessage',
            name='cancelled_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='cancelled'),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='status',
            field=models.CharField(choices=[('pending', 'waiting'), ('sent', 'sent, no receipt yet'), ('acknowledged', 'acknowledged'), ('failed', 'refused'), ('cancelled', 'cancelled, not to be sent')], default='pending', max_length=14, verbose_name='status'),
        ),
        migrations.AddConstraint(
            model_name='outboxmessage',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'cancelled'), _negated=True), ('cancelled_at__isnull', False), _connector='OR'), name='exchange_outbox_cancel_has_time'),
        ),
    ]
