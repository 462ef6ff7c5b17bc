import pytest
import yaml

from core.config import DEFAULTS, ConfigError, load_config
from tests.conftest import ROOT


def _write(tmp_path, change):
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_configuration_holds_the_domain_defaults(config):
    assert [t.name for t in config.tiers] == ["silver", "gold", "platinum", "diamond"]
    assert [t.threshold for t in config.tiers] == [0, 2000, 5000, 20000]
    assert config.points.welcome_bonus == 100
    assert config.points.max_adjustment == 100_000
    assert config.reminders.membership_expiry_days == [30, 7, 1]
    assert config.service_levels.first_response.urgent == 2


def test_a_wrong_value_is_named_with_its_key_and_what_is_allowed(tmp_path):
    path = _write(tmp_path, lambda raw: raw["quiet_hours"].update(start="25:00"))
    with pytest.raises(ConfigError, match=r"quiet_hours\.start = '25:00'"):
        load_config(path)


def test_a_wechat_send_rate_that_is_not_positive_is_refused(tmp_path):
    path = _write(tmp_path, lambda raw: raw["channels"]["wechat"].update(rate_per_second=0))
    with pytest.raises(ConfigError, match=r"channels\.wechat\.rate_per_second = 0"):
        load_config(path)


def test_tier_thresholds_must_rise(tmp_path):
    path = _write(tmp_path, lambda raw: raw["tiers"][2].update(threshold=1000))
    with pytest.raises(ConfigError, match="thresholds must rise: platinum"):
        load_config(path)


def test_an_unknown_key_is_refused_rather_than_silently_ignored(tmp_path):
    path = _write(tmp_path, lambda raw: raw["points"].update(welcom_bonus=5))
    with pytest.raises(ConfigError, match=r"points\.welcom_bonus"):
        load_config(path)


def test_a_compensation_rule_needs_bounds_for_its_basis(tmp_path):
    path = _write(
        tmp_path, lambda raw: raw["compensation"]["rules"]["delivery_delay"].pop("max_percent")
    )
    with pytest.raises(ConfigError, match="max_percent"):
        load_config(path)


def test_the_packaged_defaults_are_the_documented_config_yml():
    assert DEFAULTS.read_bytes() == (ROOT / "config.yml").read_bytes()


def test_a_digression_threshold_below_the_fallback_threshold_is_refused(tmp_path):
    path = _write(
        tmp_path,
        lambda raw: raw["nlu"].update(fallback_threshold=0.5, digression_threshold=0.4),
    )
    with pytest.raises(ConfigError, match=r"digression_threshold \(0.4\) is below"):
        load_config(path)


def test_a_configuration_without_a_digression_threshold_leaves_forms_as_before(tmp_path):
    path = _write(tmp_path, lambda raw: raw["nlu"].pop("digression_threshold"))
    nlu = load_config(path).nlu
    assert nlu.digression_threshold == nlu.fallback_threshold
