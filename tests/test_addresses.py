import ipaddress

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from auth_config.addresses import normalize_address, split_addresses


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (" 192.0.2.10 ", "192.0.2.10"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("198.51.100.0/24", "198.51.100.0/24"),
        ("198.51.100.7/32", "198.51.100.7"),
        ("PBX.Example.COM.", "pbx.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_valid_addresses_are_canonical(raw, canonical):
    assert normalize_address(raw) == canonical


def test_host_bits_suggest_the_corrected_range():
    with pytest.raises(ValidationError) as exc:
        normalize_address("198.51.100.7/24")
    assert "did you mean 198.51.100.0/24?" in exc.value.messages[0]


def test_ranges_refused_where_we_would_send_calls():
    with pytest.raises(ValidationError, match="we cannot send calls to a range"):
        normalize_address("198.51.100.0/24", allow_cidr=False)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "300.1.1.1",
        "1.2.3",
        "0.0.0.0/0",
        "-bad.example.com",
        "pbx",
        "a b.example",
        "::g",
        "☎.example",
    ],
)
def test_invalid_addresses_are_refused(raw):
    with pytest.raises(ValidationError):
        normalize_address(raw)


def test_split_addresses_one_per_line():
    assert split_addresses("192.0.2.1\n192.0.2.2, 192.0.2.1\r\n\n") == ["192.0.2.1", "192.0.2.2"]


@given(st.ip_addresses())
def test_any_ip_is_accepted_in_canonical_form(ip):
    assert normalize_address(str(ip).upper()) == str(ip)


@given(st.ip_addresses(v=4), st.integers(min_value=16, max_value=31))
def test_any_ipv4_network_is_accepted_or_corrected(ip, prefix):
    network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    assert normalize_address(str(network)) == str(network)
    if network.network_address != ip:
        with pytest.raises(ValidationError, match=f"did you mean {network}"):
            normalize_address(f"{ip}/{prefix}")


@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_but_validation_error(text):
    try:
        result = normalize_address(text)
    except ValidationError:
        return
    assert result == result.strip().lower()
    assert normalize_address(result) == result


@given(st.from_regex(r"\A[a-z][a-z0-9-]{0,20}[a-z0-9](\.[a-z][a-z0-9]{0,10}){1,3}\Z"))
def test_rfc1123_hostnames_are_accepted(name):
    assert normalize_address(name) == name
