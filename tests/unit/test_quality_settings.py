"""The ranking's settings (config.py): defaults, and a bad value refused at start naming the variable."""

import pytest

from chalicelib.config import SettingsError, load


def test_defaults_are_the_documented_ones():
    s = load({})
    assert s.ranking_min_dossiers == 10 and s.ranking_bands == (  # Thanh Hóa's legend
        ("excellent", 90.0, "Xuất sắc"), ("good", 80.0, "Tốt"), ("fair", 70.0, "Khá"),
        ("average", 50.0, "Trung bình"), ("weak", 0.0, "Yếu"))
    assert dict(s.quality_points) == {"on_time": 20.0, "online": 6.0, "online_procedures": 2.0, "online_used": 4.0,
                                      "sync": 6.0, "paid_online": 6.0, "payment_procedures": 2.0,
                                      "satisfaction": 6.0, "e_result": 6.0, "digitised": 4.0, "reuse": 2.0}
    assert s.ranking_public_levels == ("province", "department", "commune")


def test_values_are_read():
    s = load({"MOTCUA_RANKING_MIN_DOSSIERS": "30", "MOTCUA_RANKING_BANDS": "95, 85, 70, 50.5",
              "MOTCUA_QUALITY_POINTS": "on_time=20,online=5", "MOTCUA_RANKING_PUBLIC_LEVELS": "province, commune"})
    assert s.ranking_min_dossiers == 30 and [f for _, f, _ in s.ranking_bands] == [95.0, 85.0, 70.0, 50.5, 0.0]
    assert dict(s.quality_points)["on_time"] == 20.0 and dict(s.quality_points)["sync"] == 6.0
    assert s.ranking_public_levels == ("province", "commune")
    assert load({"MOTCUA_RANKING_PUBLIC_LEVELS": ""}).ranking_public_levels == ()  # every level needs a token


@pytest.mark.parametrize("name, value", [
    ("MOTCUA_RANKING_MIN_DOSSIERS", "0"), ("MOTCUA_RANKING_MIN_DOSSIERS", "ten"),
    ("MOTCUA_RANKING_BANDS", "90,80,65"), ("MOTCUA_RANKING_BANDS", "80,90,65,50"),
    ("MOTCUA_RANKING_BANDS", "90,80,80,50"), ("MOTCUA_RANKING_BANDS", "120,80,65,50"),
    ("MOTCUA_RANKING_BANDS", "a,b,c,d"), ("MOTCUA_RANKING_BANDS", "pass=50:Đạt"),
    ("MOTCUA_RANKING_BANDS", "pass=50:Đạt;fail=60:Chưa đạt;low=0:x"), ("MOTCUA_RANKING_BANDS", "Pass=50:Đạt;f=0:x"),
    ("MOTCUA_RANKING_BANDS", "pass=50:;fail=0:x"), ("MOTCUA_RANKING_BANDS", "a=50:x;a=0:y"),
    ("MOTCUA_RANKING_BANDS", "a=fifty:x;b=0:y"),
    ("MOTCUA_QUALITY_POINTS", "speed=5"), ("MOTCUA_QUALITY_POINTS", "on_time=x"),
    ("MOTCUA_QUALITY_POINTS", "on_time=20,on_time=10"), ("MOTCUA_QUALITY_POINTS", "on_time=0,online=0"),
    ("MOTCUA_QUALITY_POINTS", "online=-1"),
    ("MOTCUA_RANKING_PUBLIC_LEVELS", "province,Commune"), ("MOTCUA_RANKING_PUBLIC_LEVELS", "x" * 40),
])
def test_a_bad_value_is_refused_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        load({name: value})


def test_any_number_of_bands_with_their_labels():
    two = load({"MOTCUA_RANKING_BANDS": "pass=50:Đạt; fail=0:Chưa đạt"}).ranking_bands
    assert two == (("pass", 50.0, "Đạt"), ("fail", 0.0, "Chưa đạt"))
    six = load({"MOTCUA_RANKING_BANDS": "a=95:A;b=85:B;c=75:C;d=60:D;e=40:E;f=0:F"}).ranking_bands
    assert [k for k, _, _ in six] == ["a", "b", "c", "d", "e", "f"]
