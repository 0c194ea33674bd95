"""The simulated world of one (scale, seed, as_of): every person, contact, order, ticket and
campaign event from the start of history to the end of the increment horizon. Exports (the base
and each daily increment) are views of it at a point in time, so they always agree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.config import Settings
from generator.contacts import Contacts, simulate_contacts
from generator.marketing import Campaigns, Events, simulate_campaigns, simulate_events
from generator.persons import Persons, simulate_persons
from generator.purchases import FxTable, Lines, Orders, fx_table, simulate_orders
from generator.service import Tickets, simulate_tickets


@dataclass
class World:
    settings: Settings
    persons: Persons
    contacts: Contacts
    fx: FxTable
    orders: Orders
    lines: Lines
    tickets: Tickets
    campaigns: Campaigns
    events: Events
    acquisition_campaign: np.ndarray  # per contact: campaign index or -1
    truth: dict


def simulate(s: Settings, step=lambda label: None) -> World:
    step("persons")
    persons = simulate_persons(s)
    step("contacts")
    contacts = simulate_contacts(s, persons)
    fx = fx_table(s)
    step("orders")
    orders, lines, truth = simulate_orders(s, persons, contacts, fx)
    step("tickets")
    tickets = simulate_tickets(s, persons, contacts, orders)
    step("campaigns")
    campaigns = simulate_campaigns(s, fx)
    events, acquired = simulate_events(s, persons, contacts, orders, campaigns)
    truth["identity"] = {
        "same_person_record_pairs": contacts.same_person_pairs,
        "linkable_record_pairs": contacts.linkable_pairs,
    }
    return World(
        s, persons, contacts, fx, orders, lines, tickets, campaigns, events, acquired, truth
    )
