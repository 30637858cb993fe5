"""People and companies no other test uses."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from stdnum import luhn

from tests.support.constants import PASSWORD


@dataclass
class Person:
    email: str
    first_name: str = "Marie"
    last_name: str = "Curie"
    phone: str = "01 23 45 67 89"
    password: str = PASSWORD

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def new_person(tag: str = "marie", **changes) -> Person:
    """Someone with an e-mail address no other test uses."""
    return Person(email=f"{tag}.{secrets.token_hex(4)}@exemple.fr", **changes)


def new_siret() -> str:
    """A valid SIRET no other test uses: a random SIREN with its Luhn key,
    then an establishment number whose last digit makes all 14 Luhn-valid."""
    siren = "".join(secrets.choice("0123456789") for _ in range(8))
    siren += luhn.calc_check_digit(siren)
    number = siren + "".join(secrets.choice("0123456789") for _ in range(4))
    return number + luhn.calc_check_digit(number)


@dataclass
class Company:
    siret: str
    name: str = "Ateliers Curie"
    address: str = "12 rue de la Paix"
    city: str = "Paris"
    postal_code: str = "75002"


def new_company(name: str = "Ateliers Curie", **changes) -> Company:
    """A company with a SIRET of its own."""
    return Company(siret=new_siret(), name=f"{name} {secrets.token_hex(2).upper()}", **changes)


@dataclass
class Owner:
    """A structure's gestionnaire principal, and the cookies of its session."""

    person: Person
    company: Company
    storage_state: dict
