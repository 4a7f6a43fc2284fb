"""Triggers: a signed note, its diagnoses and its provenance never change; notes keep their own search vector.

Immutability. A draft note may be edited any number of times and signed once (status draft -> signed in
one UPDATE). From then on the database refuses every UPDATE and DELETE of the row, and any INSERT,
UPDATE or DELETE of its diagnoses and provenance rows; a correction is a new version (an amendment).
The one exception is a patient merge: inside a transaction that has run
`SELECT set_config('emr.patient_merge', 'on', true)`, an UPDATE that changes nothing but `patient_id`
passes, so the merge service can re-point signed notes to the surviving patient (and back when the
merge is reversed) without touching their content.

Search. A BEFORE INSERT OR UPDATE trigger computes `search_vector`, so a draft is searchable as soon
as it is saved and the vector is final when the note is signed. The 'simple' configuration (no
stemming, no stop words, lower case) indexes Latin-script words: "chest pain" finds "Chest pain for 3
days". 'simple' does not segment Chinese: PostgreSQL's parser turns a whole run of Han characters into
one token ("患者胸痛三天"), which a search for "胸痛" would never match. So Han text is indexed apart,
as overlapping character bigrams plus the last character of each run (患者 者胸 胸痛 痛三 三天 天),
one lexeme per position. A search splits its Han runs the same way and asks for the bigrams as a
phrase (胸痛 -> '胸痛'; 胸痛三天 -> '胸痛' <-> '痛三' <-> '三天'); a single character becomes a prefix
query ('痛':*), which every position of a run can answer. The Latin part of the vector is computed
with the Han characters blanked out, so "患者chest" still yields 'chest'. Chief complaint and
assessment weigh most (A), history and examination next (B), the rest C, for ts_rank.
"""

from django.db import migrations

# Han characters: \u3400-\u4dbf, \u4e00-\u9fff, \uf900-\ufaff (PostgreSQL's regular expressions read the
# \uXXXX escapes). CJK punctuation and full-width symbols are word separators in the Latin part.
FUNCTIONS = r"""
CREATE FUNCTION emr_han_bigrams(doc text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    run text;
    lexemes text[] := '{}';
    i integer;
BEGIN
    FOR run IN SELECT m[1] FROM regexp_matches(coalesce(doc, ''), '([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)', 'g') AS m LOOP
        FOR i IN 1 .. char_length(run) - 1 LOOP
            lexemes := lexemes || substr(run, i, 2);
        END LOOP;
        lexemes := lexemes || substr(run, char_length(run), 1);
    END LOOP;
    RETURN array_to_string(lexemes, ' ');
END
$$;

CREATE FUNCTION emr_text_tsvector(doc text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('simple', regexp_replace(coalesce(doc, ''), '[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+', ' ', 'g'))
        || to_tsvector('simple', emr_han_bigrams(doc))
$$;

CREATE FUNCTION emr_clinicalnote_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(emr_text_tsvector(NEW.chief_complaint), 'A')
        || setweight(emr_text_tsvector(NEW.assessment), 'A')
        || setweight(emr_text_tsvector(NEW.history_present_illness), 'B')
        || setweight(emr_text_tsvector(NEW.examination), 'B')
        || setweight(emr_text_tsvector(NEW.past_history), 'C')
        || setweight(emr_text_tsvector(NEW.current_medications), 'C')
        || setweight(emr_text_tsvector(NEW.allergies), 'C')
        || setweight(emr_text_tsvector(NEW.plan), 'C');
    RETURN NEW;
END
$$;

CREATE FUNCTION emr_clinicalnote_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'signed' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('emr.patient_merge', true) = 'on'
            AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'clinical note % is signed and cannot be deleted; amend it instead', OLD.id;
    END IF;
    RAISE EXCEPTION 'clinical note % is signed and cannot be changed; amend it instead', OLD.id;
END
$$;

CREATE FUNCTION emr_note_child_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent_status text;
BEGIN
    -- FOR SHARE waits for a concurrent signing to finish and then sees its outcome.
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT status INTO parent_status FROM emr_clinicalnote WHERE id = OLD.note_id FOR SHARE;
        IF parent_status = 'signed' THEN
            RAISE EXCEPTION 'clinical note % is signed: its % cannot be changed; amend it instead',
                OLD.note_id, TG_ARGV[0];
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT status INTO parent_status FROM emr_clinicalnote WHERE id = NEW.note_id FOR SHARE;
        IF parent_status = 'signed' THEN
            RAISE EXCEPTION 'clinical note % is signed: its % cannot be changed; amend it instead',
                NEW.note_id, TG_ARGV[0];
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$;

"""

# Notes saved before this migration get their vector (the guard does not exist yet, so signed ones too).
TRIGGERS = """
CREATE TRIGGER emr_clinicalnote_search_vector BEFORE INSERT OR UPDATE ON emr_clinicalnote
    FOR EACH ROW EXECUTE FUNCTION emr_clinicalnote_search_vector();
UPDATE emr_clinicalnote SET id = id;
CREATE TRIGGER emr_clinicalnote_guard BEFORE UPDATE OR DELETE ON emr_clinicalnote
    FOR EACH ROW EXECUTE FUNCTION emr_clinicalnote_guard();
CREATE TRIGGER emr_notediagnosis_guard BEFORE INSERT OR UPDATE OR DELETE ON emr_notediagnosis
    FOR EACH ROW EXECUTE FUNCTION emr_note_child_guard('diagnoses');
CREATE TRIGGER emr_notefieldprovenance_guard BEFORE INSERT OR UPDATE OR DELETE ON emr_notefieldprovenance
    FOR EACH ROW EXECUTE FUNCTION emr_note_child_guard('provenance');
"""

REVERSE = """
DROP TRIGGER IF EXISTS emr_notefieldprovenance_guard ON emr_notefieldprovenance;
DROP TRIGGER IF EXISTS emr_notediagnosis_guard ON emr_notediagnosis;
DROP TRIGGER IF EXISTS emr_clinicalnote_search_vector ON emr_clinicalnote;
DROP TRIGGER IF EXISTS emr_clinicalnote_guard ON emr_clinicalnote;
DROP FUNCTION IF EXISTS emr_note_child_guard();
DROP FUNCTION IF EXISTS emr_clinicalnote_guard();
DROP FUNCTION IF EXISTS emr_clinicalnote_search_vector();
DROP FUNCTION IF EXISTS emr_text_tsvector(text);
DROP FUNCTION IF EXISTS emr_han_bigrams(text);
"""


class Migration(migrations.Migration):
    dependencies = [("emr", "0003_icd10_codes")]

    operations = [
        migrations.RunSQL(sql=FUNCTIONS + TRIGGERS, reverse_sql=REVERSE),
    ]
