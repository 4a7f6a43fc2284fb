"""Concurrent writers on their own database connections never fork the access log's chain."""

import threading
import uuid

import pytest
from django.db import connection, transaction

from hospital.core.models import AccessLog
from hospital.core.request_context import RequestContext
from hospital.core.services.access_log import access_log_record, access_log_verify
from tests.factories import UserFactory

THREADS = 8
PER_THREAD = 25


class _RolledBack(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_eight_threads_appending_at_once_leave_one_unbroken_chain():
    # given committed users, one per writer, and writers released together
    users = [UserFactory(username=f"writer{n}") for n in range(THREADS)]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def write(user, worker: int) -> None:
        try:
            start.wait()
            for n in range(PER_THREAD):
                context = RequestContext(channel="task", request_id=f"w{worker}-{n}")
                if n % 5 == 4:
                    # every fifth entry belongs to work that fails: it takes an id, then rolls back
                    try:
                        with transaction.atomic():
                            access_log_record(
                                actor=user, action=AccessLog.Action.WRITE, object_type="emr.note", context=context
                            )
                            raise _RolledBack
                    except _RolledBack:
                        continue
                access_log_record(
                    actor=user,
                    action=AccessLog.Action.READ,
                    object_type="emr.patient",
                    patient_external_id=uuid.uuid4(),
                    context=context,
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    # when each writes 25 entries on its own connection, a fifth of them rolled back
    threads = [threading.Thread(target=write, args=(user, n)) for n, user in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every committed entry is in one chain: each links to the one before, none shares a parent
    assert errors == []
    kept = THREADS * PER_THREAD * 4 // 5
    assert AccessLog.objects.count() == kept
    assert AccessLog.objects.filter(action=AccessLog.Action.WRITE).count() == 0
    assert AccessLog.objects.values("prev_hash").distinct().count() == kept
    result = access_log_verify()
    assert (result.ok, result.rows_checked, result.first_broken_id) == (True, kept, None)
    for user in users:
        assert AccessLog.objects.filter(actor_id=user.pk).count() == PER_THREAD * 4 // 5
    # the rolled-back entries used ids, so ids have gaps that are not breaks
    ids = list(AccessLog.objects.values_list("id", flat=True))
    assert ids[-1] - ids[0] + 1 > kept
