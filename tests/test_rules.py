"""Sector rule sets: the format, the checks with findings worked out by hand, the choices
``calc --rules`` applies, and where the rule set is recorded.

The test model (``MODEL``): 1 kg hydrogen from process ``electrolysis``, co-product 8 kg
oxygen; 50 kWh of ``power`` (0.5 kg CO2/kWh) and 0.01 kg ``glue`` (2 kg CO2/kg).

* inputs: 50 x 0.5 = 25 kg CO2; 0.01 x 2 = 0.02 kg CO2; process total 25.02.
* mass allocation (hydrogen mass 1, oxygen mass 1 per kg): hydrogen share 1 / (1 + 8) = 1/9,
  footprint 25.02 / 9 = 2.78 kg CO2e per kg.
* energy allocation (hydrogen 120 MJ/kg, oxygen 0): share 120 / 120 = 1, footprint 25.02.
* cut-off at 1 % (energy allocation): glue brings 0.02 / 25.02 = 0.080 % < 1 %: cut,
  footprint 25.0; power brings 99.92 %: kept.

The rule set (``RULES``) asks for: kilogram; cradle-to-gate; stages raw material acquisition
and production; oxygen allocated by energy (applied); a cut-off of at most 1 %, applied with
at most 5 % in total; market-based electricity only with GEC or I-REC certificates; GWP AR6.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fixtures.in_process import openpcf
from openpcf.errors import RuleSetError
from openpcf.exchange.pact import product_footprint
from openpcf.model.loading import load_model
from openpcf.rules.check import check
from openpcf.rules.loading import RuleBook, bundled_rule_sets, load_rule_set
from openpcf.services.calculate import calculate
from openpcf.services.rules import check_model

FACTORS = """
factors:
  - {id: power, name: power, unit: kWh, category: electricity, geography: GLO, year: 2024,
     source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 0.5}}
  - {id: glue, name: glue, unit: kg, category: material, geography: GLO, year: 2024,
     source: hand-made test factor, licence: CC0, emissions: {CO2-fossil: 2.0}}
"""

MODEL = """\
openpcf: 1
product:
  name: Hydrogen, test
  ids: [urn:openpcf:product:h2-test]
  cn_code: "2804 10 00"
  declared_unit: {unit}
  mass_per_declared_unit: 1
  reference_period: {{start: 2024-01-01, end: 2024-12-31}}
boundary: cradle-to-gate
reference_process: electrolysis
cutoff_percent: {cutoff}
factor_sets: [factors.yaml]
processes:
  - id: electrolysis
    name: Electrolysis
    stage: production
    output: {{product: hydrogen, amount: 1, unit: kg, mass: 1, energy: 120}}
    co_products:
      - {{product: oxygen, amount: 8, unit: kg, mass: 1, energy: 0}}
    allocation: {{method: mass}}
    inputs:
      - {{factor: power, amount: 50, unit: kWh}}
      - {{factor: glue, amount: 0.01, unit: kg}}
{extra}"""

SOURCE = '{document: "ISO 14067:2018", clause: "6.4.6", year: 2018, access: paywalled}'
RULES = f"""\
openpcf_rules: 1
id: test.hydrogen
version: "1.0"
title: {{en: Hydrogen (test), zh: 氢（测试）}}
product_class:
  name: {{en: Hydrogen, zh: 氢}}
  cn_codes: ["280410"]
summary: {{en: test rules, zh: 测试规则}}
documents: ["ISO 14067:2018"]
clauses:
  - id: unit
    kind: declared_unit
    units: [kilogram]
    source: {SOURCE}
    requirement: {{en: per kg, zh: 每千克}}
    hint: {{en: declare kilogram, zh: 声明千克}}
  - id: boundary
    kind: boundary
    boundaries: [cradle-to-gate]
    source: {SOURCE}
    requirement: {{en: cradle to gate, zh: 从摇篮到大门}}
  - id: stages
    kind: mandatory_stages
    stages: [raw_material_acquisition, production]
    source: {SOURCE}
    requirement: {{en: both stages, zh: 两个阶段}}
  - id: oxygen
    kind: allocation
    situation: {{en: oxygen, zh: 氧气}}
    co_products: ["oxygen|氧"]
    methods: [energy]
    applies: energy
    source: {SOURCE}
    requirement: {{en: energy, zh: 能量}}
  - id: cutoff
    kind: cutoff
    max_percent: 1
    max_total_percent: 5
    applies: true
    source: {SOURCE}
    requirement: {{en: at most 1 %, zh: 不超过 1%}}
  - id: electricity
    kind: electricity
    method: market
    instruments: [GEC, I-REC]
    source: {SOURCE}
    requirement: {{en: certificates, zh: 证书}}
  - id: gwp
    kind: gwp
    sets: [AR6]
    source: {SOURCE}
    requirement: {{en: AR6, zh: AR6}}
  - id: verifier
    kind: manual
    source: {{document: "T/XX 1-2025", clause: "whole document", year: 2025,
              access: not-public, note: "no public text found"}}
    requirement: {{en: a verifier confirms, zh: 核查确认}}
"""

CLAIMS = """\
claim: site-2024
site: Test plant
geography: CN-NM
period: {start: 2024-01-01, end: 2024-12-31}
grid_year: 2022
consumption_kwh: 1000
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "factors.yaml").write_text(FACTORS, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "claims.yaml").write_text(CLAIMS, encoding="utf-8")
    return tmp_path


def write_model(
    folder: Path, *, unit: str = "kilogram", cutoff: float = 1, extra: str = ""
) -> Path:
    path = folder / "model.yaml"
    path.write_text(MODEL.format(unit=unit, cutoff=cutoff, extra=extra), encoding="utf-8")
    return path


def checked(folder: Path, model: Path):  # type: ignore[no-untyped-def]
    return check(load_rule_set(folder / "rules.yaml"), load_model(model))


def by_clause(conformance):  # type: ignore[no-untyped-def]
    return {c.clause: c for c in conformance.clauses}


# -- the checks, with the expected findings worked out by hand -----------------------------------


def test_model_as_written_breaks_stage_and_allocation_clauses(folder: Path) -> None:
    """The model has no raw-material stage and allocates oxygen by mass (line 20 of the
    model: ``allocation: {method: mass}``): two errors; everything else conforms, the
    manual clause is to be confirmed, and the electricity clause has nothing to judge
    (grid power given as a factor)."""
    c = by_clause(checked(folder, write_model(folder)))
    assert c["stages"].status == "violated"
    (f,) = c["stages"].findings
    assert "raw_material_acquisition" in f.message
    assert c["oxygen"].status == "violated"
    (f,) = c["oxygen"].findings
    assert f.where.endswith("model.yaml:20")
    assert f.process == "electrolysis"
    assert "by mass" in f.message
    assert "energy" in f.message
    assert f.source == "ISO 14067:2018, 6.4.6 (2018)"
    assert c["unit"].status == c["boundary"].status == c["gwp"].status == "conforms"
    assert c["cutoff"].status == "conforms"
    assert c["verifier"].status == "to-confirm"
    assert "text not public: no public text found" in c["verifier"].source
    assert c["electricity"].status == "not-applicable"


def test_wrong_declared_unit(folder: Path) -> None:
    """``declared_unit: piece`` where the rule set asks for kilogram: one error at line 6."""
    c = by_clause(checked(folder, write_model(folder, unit="piece")))
    (f,) = c["unit"].findings
    assert f.where.endswith("model.yaml:6")
    assert "'piece'" in f.message
    assert "'kilogram'" in f.message
    assert f.hint == "declare kilogram"


def test_cutoff_above_the_limit(folder: Path) -> None:
    """``cutoff_percent: 5`` against a rule of at most 1 %: one error at line 11."""
    c = by_clause(checked(folder, write_model(folder, cutoff=5)))
    (f,) = c["cutoff"].findings
    assert f.where.endswith("model.yaml:11")
    assert "5 %" in f.message
    assert "1 %" in f.message


def test_market_based_electricity_without_certificates(folder: Path) -> None:
    """A second process draws 10 kWh on a claims file that holds no instrument: the rule
    set accepts market-based electricity only with GEC or I-REC certificates."""
    extra = """\
  - id: utilities
    name: Utilities
    stage: production
    output: {product: utilities, amount: 1, unit: kg}
    inputs:
      - {electricity_claim: claims.yaml, amount: 10, unit: kWh}
"""
    c = by_clause(checked(folder, write_model(folder, extra=extra)))
    (f,) = c["electricity"].findings
    assert f.process == "utilities"
    assert "without any certificate" in f.message
    assert f.where.endswith("model.yaml:29")


def test_refused_instrument_type(folder: Path) -> None:
    """A PPA where only GEC and I-REC count: an error naming the refused type."""
    (folder / "claims.yaml").write_text(
        CLAIMS
        + """instruments:
  - {type: PPA, id: PPA-1, mwh: 0.5, technology: wind, period: {start: 2024-01-01,
     end: 2024-12-31}}
""",
        encoding="utf-8",
    )
    extra = """\
  - id: utilities
    name: Utilities
    stage: production
    output: {product: utilities, amount: 1, unit: kg}
    inputs:
      - {electricity_claim: claims.yaml, amount: 10, unit: kWh}
"""
    c = by_clause(checked(folder, write_model(folder, extra=extra)))
    (f,) = c["electricity"].findings
    assert "PPA" in f.message
    assert "GEC, I-REC" in f.message


def test_data_quality_and_primary_share_need_the_calculation(folder: Path) -> None:
    """Without a calculation these clauses are "to confirm"; with it, decided: the power
    input brings 99.92 % of the total and has no quality scores."""
    rules = folder / "rules.yaml"
    rules.write_text(
        RULES
        + f"""  - id: quality
    kind: data_quality
    max_score: 3
    significant_percent: 10
    source: {SOURCE}
    requirement: {{en: scores 3 or better, zh: 评分不差于 3}}
  - id: primary
    kind: primary_data
    min_share: 0.5
    source: {SOURCE}
    requirement: {{en: half primary, zh: 一半一手数据}}
""",
        encoding="utf-8",
    )
    model = write_model(folder)
    plain = by_clause(checked(folder, model))
    assert plain["quality"].status == plain["primary"].status == "to-confirm"
    c = by_clause(check_model(model, rules="test.hydrogen", rule_files=(rules,)))
    (f,) = c["quality"].findings
    assert "99.92%" in f.message
    assert "no quality: scores" in f.message
    (f,) = c["primary"].findings
    assert "0.0% of the footprint comes from primary data" in f.message


# -- calc --rules: the rule set's choices change the calculation -----------------------------


def test_calc_under_rules_applies_allocation_and_cutoff(folder: Path) -> None:
    """As written (mass): 25.02 / 9 = 2.78. Under the rules: energy allocation (share 1) and
    the glue cut (0.080 % < 1 %): 25.0 exactly."""
    model = write_model(folder)
    plain = calculate(model)
    assert plain.result.total == pytest.approx(25.02 / 9, rel=1e-12)
    ruled = calculate(model, rules="test.hydrogen", rule_files=[folder / "rules.yaml"])
    assert ruled.result.total == pytest.approx(25.0, rel=1e-12)
    c = ruled.conformance
    assert c is not None
    assert c.ref == "test.hydrogen@1.0"
    assert by_clause(c)["oxygen"].status == "conforms"
    assert by_clause(c)["oxygen"].applied == "allocation by energy for electrolysis"
    assert by_clause(c)["cutoff"].applied == "cut-off: inputs under 1 % cut"
    notes = " | ".join(ruled.result.notes)
    assert "rule set test.hydrogen@1.0: oxygen: allocation by energy" in notes
    assert "cut off (under the cut-off criterion)" in notes
    assert "glue" in notes
    provenance = dict(ruled.result.provenance)
    assert provenance["rules"] == "test.hydrogen@1.0"
    assert len(provenance["rules_sha256"]) == 64
    assert "allocation of electrolysis: energy" in provenance["methodology"]
    # another calculation, another footprint id; the plain id is unchanged by the feature
    assert ruled.footprint_id != plain.footprint_id
    assert calculate(model).footprint_id == plain.footprint_id


def test_model_declares_its_rule_set_and_pact_records_it(folder: Path) -> None:
    """``rules:`` in the model applies like ``--rules``; the PACT footprint names the rule set
    in productOrSectorSpecificRules (operator Other)."""
    text = write_model(folder).read_text(encoding="utf-8")
    model = folder / "declared.yaml"
    model.write_text(
        text.replace("cutoff_percent: 1\n", "cutoff_percent: 1\nrules: test.hydrogen\n")
    )
    home = folder / "home"
    (home / "rules").mkdir(parents=True)
    (home / "rules" / "h2.yaml").write_text(RULES, encoding="utf-8")
    from openpcf.settings import Settings

    settings = Settings(home=home, database_url=f"sqlite:///{home / 'openpcf.db'}")
    calc = calculate(model, settings=settings)
    assert calc.result.total == pytest.approx(25.0, rel=1e-12)
    doc = product_footprint(calc)
    (rule,) = doc["pcf"]["productOrSectorSpecificRules"]
    assert rule["operator"] == "Other"
    assert rule["ruleNames"] == ["Hydrogen (test) (test.hydrogen@1.0; ISO 14067:2018)"]


def test_report_states_conformance_clause_by_clause(folder: Path) -> None:
    from openpcf.reports import build_report_data

    ruled = calculate(
        write_model(folder), rules="test.hydrogen", rule_files=[folder / "rules.yaml"]
    )
    data = build_report_data(ruled, lang="en")
    rows = {r.clause: r for r in data.conformance}
    assert rows["oxygen"].status == "conforms"
    assert rows["oxygen"].detail == "allocation by energy for electrolysis"
    assert rows["stages"].status == "violated"
    assert rows["verifier"].status == "to be confirmed by the verifier"
    assert "test.hydrogen@1.0" in data.rules_fields[0].text
    zh = build_report_data(ruled, lang="zh")
    assert {r.clause: r for r in zh.conformance}["oxygen"].requirement == "能量"


# -- bad input -------------------------------------------------------------------------------


def test_unknown_clause_kind_names_file_and_line(folder: Path) -> None:
    bad = folder / "bad.yaml"
    bad.write_text(RULES.replace("kind: gwp", "kind: colour"), encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"bad\.yaml:\d+: clauses\[6\].*'colour'"):
        load_rule_set(bad)


def test_clause_without_source_is_refused(folder: Path) -> None:
    bad = folder / "bad.yaml"
    bad.write_text(
        RULES.replace(
            f"    source: {SOURCE}\n    requirement: {{en: AR6", "    requirement: {en: AR6"
        ),
        encoding="utf-8",
    )
    with pytest.raises(RuleSetError, match=r"bad\.yaml:\d+: clauses\[6\]\.source: Field required"):
        load_rule_set(bad)


def test_not_public_source_must_say_how(folder: Path) -> None:
    bad = folder / "bad.yaml"
    bad.write_text(RULES.replace(', note: "no public text found"', ""), encoding="utf-8")
    with pytest.raises(RuleSetError, match="not-public source needs a 'note'"):
        load_rule_set(bad)


def test_unknown_rule_set_and_other_product_class(folder: Path) -> None:
    model = write_model(folder)
    with pytest.raises(RuleSetError, match=r"unknown rule set 'test\.hydrogn'"):
        calculate(model, rules="test.hydrogn", rule_files=[folder / "rules.yaml"])
    with pytest.raises(RuleSetError, match=r"held in version 1\.0, not 2\.0"):
        calculate(model, rules="test.hydrogen@2.0", rule_files=[folder / "rules.yaml"])
    with pytest.raises(RuleSetError, match=r"model\.yaml:5: rule set 'steel.hot-rolled-coil'"):
        calculate(model, rules="steel.hot-rolled-coil")


def test_model_naming_an_unknown_rule_set_points_at_its_line(folder: Path) -> None:
    text = write_model(folder).read_text(encoding="utf-8")
    model = folder / "declared.yaml"
    model.write_text(text.replace("cutoff_percent: 1\n", "cutoff_percent: 1\nrules: no.such\n"))
    with pytest.raises(RuleSetError, match=r"declared\.yaml:12: unknown rule set 'no.such'"):
        calculate(model)


def test_user_rule_file_replaces_bundled_id_and_duplicates_are_refused(folder: Path) -> None:
    mine = RULES.replace("id: test.hydrogen", "id: hydrogen.electrolysis")
    (folder / "a").mkdir()
    (folder / "a" / "h2.yaml").write_text(mine, encoding="utf-8")
    book = RuleBook(folders=[folder / "a"])
    assert not book.get("hydrogen.electrolysis").bundled
    (folder / "a" / "h2b.yaml").write_text(mine, encoding="utf-8")
    with pytest.raises(RuleSetError, match="also defined in"):
        RuleBook(folders=[folder / "a"])


# -- the bundled rule sets ----------------------------------------------------------------


def test_bundled_rule_sets_load_with_sources() -> None:
    found = bundled_rule_sets()
    assert len(found) >= 20
    for r in found:
        assert r.rules.title.zh
        assert r.rules.title.en
        for c in r.rules.clauses:
            assert c.source.document
            assert c.source.year
            if c.source.access == "not-public":
                assert c.source.note


@pytest.mark.parametrize(
    ("example", "rule_set"),
    [
        ("hot_rolled_coil_hebei.yaml", "steel.hot-rolled-coil"),
        ("hydrogen_alkaline_inner_mongolia.yaml", "hydrogen.electrolysis"),
        ("lfp_battery_pack.yaml", "battery.traction"),
        ("alkaline_electrolyser_stack.yaml", "electrolyser.stack"),
    ],
)
def test_each_bundled_example_checks_against_its_rule_set(example: str, rule_set: str) -> None:
    model = Path(__file__).parents[1] / "examples" / example
    c = check_model(model, rules=rule_set)
    assert c.ref.startswith(rule_set + "@")
    assert len(c.clauses) == len(RuleBook().get(rule_set).rules.clauses)


# -- the command line ------------------------------------------------------------------------


def test_cli_check_exit_codes_and_json(folder: Path) -> None:
    model = str(write_model(folder))
    rules = str(folder / "rules.yaml")
    out = openpcf("check", model, "--rules", "test.hydrogen", "--rule-file", rules)
    assert out.returncode == 6, out.stderr
    assert "[oxygen]" in out.stdout
    assert "rule: energy (ISO 14067:2018, 6.4.6 (2018))" in out.stdout
    out = openpcf("check", model, "--rules", "test.hydrogen", "--rule-file", rules, "--json")
    data = json.loads(out.stdout)
    assert data["errors"] == 2
    assert data["conforms"] is False
    out = openpcf("check", model)
    assert out.returncode == 2
    assert "name the rule set" in out.stderr
    out = openpcf("check", model, "--rules", "nope")
    assert out.returncode == 2
    assert "unknown rule set 'nope'" in out.stderr


def test_cli_warnings_only_exit_5(folder: Path) -> None:
    rules = folder / "rules.yaml"
    text = RULES
    for requirement in ("    requirement: {en: both stages", "    requirement: {en: energy"):
        text = text.replace(requirement, "    severity: warning\n" + requirement)
    rules.write_text(text, encoding="utf-8")
    model = str(write_model(folder))
    out = openpcf("check", model, "--rules", "test.hydrogen", "--rule-file", str(rules))
    assert out.returncode == 5, out.stdout + out.stderr


def test_cli_rules_list_and_show() -> None:
    out = openpcf("rules", "list", "--json")
    assert out.returncode == 0
    ids = {r["id"] for r in json.loads(out.stdout)}
    assert {"steel.hot-rolled-coil", "hydrogen.electrolysis", "aluminium.primary"} <= ids
    out = openpcf("rules", "show", "aluminium.primary", "--lang", "zh")
    assert out.returncode == 0
    assert "source:" in out.stdout
    out = openpcf("rules", "show", "nope")
    assert out.returncode == 2
    assert "unknown rule set" in out.stderr


def test_calc_cli_prints_the_choices(folder: Path) -> None:
    model = str(write_model(folder))
    out = openpcf(
        "calc", model, "--rules", "test.hydrogen", "--rule-file", str(folder / "rules.yaml")
    )
    assert out.returncode == 0, out.stderr
    assert "applied oxygen: allocation by energy for electrolysis" in out.stdout


# -- deliverables: stored, packaged and reproduced with their rule set ------------------------


def declared_home(folder: Path) -> tuple[Path, object]:
    """The test model declaring ``rules: test.hydrogen``, a user rule set of its home."""
    from openpcf.settings import Settings

    text = write_model(folder).read_text(encoding="utf-8")
    model = folder / "declared.yaml"
    model.write_text(
        text.replace("cutoff_percent: 1\n", "cutoff_percent: 1\nrules: test.hydrogen\n")
    )
    home = folder / "home"
    (home / "rules").mkdir(parents=True, exist_ok=True)
    (home / "rules" / "h2.yaml").write_text(RULES, encoding="utf-8")
    return model, Settings(home=home, database_url=f"sqlite:///{home / 'openpcf.db'}")


def test_publish_stores_the_rule_set(folder: Path, engine: Engine) -> None:
    """Published under its rules (25.0, energy allocation): the stored PACT footprint names
    the rule set; SQLite and PostgreSQL."""
    from openpcf.services.publishing import publish

    model, settings = declared_home(folder)
    published = publish(model, engine=engine, organisation="Test Co", settings=settings)
    pcf = published.document["pcf"]
    assert pcf["pcfExcludingBiogenicUptake"] == "25"
    assert pcf["productOrSectorSpecificRules"][0]["ruleNames"] == [
        "Hydrogen (test) (test.hydrogen@1.0; ISO 14067:2018)"
    ]


def test_package_carries_the_rule_set_and_reproduces_without_it(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's rule set travels in the package (``rules/test.hydrogen.yaml``); a verifier
    who does not have it reproduces the package bit for bit, and a tampered rule file in the
    package changes the footprint id, so the reproduction reports a difference."""
    import shutil
    import zipfile

    from openpcf.services.packaging import build_package, reproduce_package

    model, settings = declared_home(folder)
    out = folder / "h2.zip"
    summary = build_package(model, output=out, settings=settings, certificate=False)
    assert summary.kg_co2e == pytest.approx(25.0, rel=1e-12)
    with zipfile.ZipFile(out) as z:
        assert z.read("rules/test.hydrogen.yaml").decode() == RULES
    clean = folder / "clean"
    clean.mkdir()
    shutil.copy(out, clean / "h2.zip")
    monkeypatch.chdir(clean)
    report = reproduce_package(Path("h2.zip"))
    assert report.identical, report.summary()
    # a rule set edited inside the package: its digest no longer matches the manifest
    tampered = clean / "tampered.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "rules/test.hydrogen.yaml":
                data = data.replace(
                    b"methods: [energy]\n    applies: energy", b"methods: [mass]\n    applies: mass"
                )
            dst.writestr(item, data)
    report = reproduce_package(Path("tampered.zip"))
    assert not report.identical
    assert "rules/test.hydrogen.yaml" in report.summary()
