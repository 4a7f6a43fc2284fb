"""Fixtures of the EMR page tests: a doctor treating a patient, a nurse of another ward, an archivist."""

import pytest

from tests.emr.test_access_support import assign, make_patient, make_user, make_ward, start_outpatient


@pytest.fixture
def treating_doctor(db):
    return make_user("dr.zhang", "doctor")


@pytest.fixture
def patient(treating_doctor):
    patient = make_patient("王", "芳")
    start_outpatient(patient, treating_doctor, reason="Cough")
    return patient


@pytest.fixture
def encounter(patient):
    return patient.encounters.get()


@pytest.fixture
def other_ward_nurse(db):
    nurse = make_user("nurse.li", "nurse")
    assign(nurse, make_ward("W9"))
    return nurse


@pytest.fixture
def archivist(db):
    return make_user("archivist.wu", "records_archivist")


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
