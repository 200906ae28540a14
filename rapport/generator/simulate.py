"""Run the whole simulation: one independent random stream per part, in dependency order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rapport.generator import activity, commerce, service, stances, world
from rapport.generator.scales import Scale
from rapport.generator.timeline import Timeline, make_timeline

STREAMS = ("regions", "reps", "accounts", "contacts", "plans", "plan_items", "interactions",
           "attitudes", "assessments", "competitors", "opportunities", "opportunity_contacts",
           "payments", "targets", "strategies", "complaints", "feedback", "surveys", "flags",
           "text")


def rng_for(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, STREAMS.index(stream)])


@dataclass
class World:
    scale: Scale
    seed: int
    tl: Timeline
    regions: world.Regions
    reps: world.Reps
    accounts: world.Accounts
    contacts: world.Contacts
    plans: activity.Plans
    items: activity.PlanItems
    interactions: activity.Interactions
    attitudes: stances.Attitudes
    assessments: stances.Assessments
    competitors: stances.CompetitorStances
    opportunities: commerce.Opportunities
    opportunity_contacts: commerce.OpportunityContacts
    payments: commerce.Payments
    targets: commerce.Targets
    strategies: service.Strategies
    complaints: service.Complaints
    feedback: service.Feedback
    surveys: service.Surveys
    has_agreement: np.ndarray  # per account: 1, 0, -1 missing
    is_exclusive: np.ndarray


def people(scale: Scale, seed: int) -> tuple[Timeline, world.Regions, world.Reps]:
    """The cheap first part (also used to tell which habit each rep was given)."""
    tl = make_timeline(scale.start, scale.end)
    regions = world.make_regions(rng_for(seed, "regions"), scale, tl)
    reps = world.make_reps(rng_for(seed, "reps"), scale, tl, regions)
    return tl, regions, reps


def account_flags(rng: np.random.Generator, accounts: world.Accounts,
                  inter: activity.Interactions) -> tuple[np.ndarray, np.ndarray]:
    """Strategic agreement / exclusive partnership: signed in the period, or before it."""
    signed = np.zeros(accounts.n, dtype=bool)
    exclusive = np.zeros(accounts.n, dtype=bool)
    signed[inter.account[inter.type == activity.TYPE_INDEX["strategic_agreement_signing"]]] = True
    exclusive[inter.account[inter.type == activity.TYPE_INDEX["exclusive_partnership"]]] = True
    signed |= accounts.top20 & (rng.random(accounts.n) < 0.1)
    exclusive |= rng.random(accounts.n) < 0.03
    agreement = np.where(rng.random(accounts.n) < 0.1, -1, signed.astype(np.int64))
    excl = np.where(rng.random(accounts.n) < 0.12, -1, exclusive.astype(np.int64))
    return agreement, excl


def simulate(scale: Scale, seed: int, progress=None) -> World:
    def step(msg: str) -> None:
        if progress is not None:
            progress.step(msg)

    activity.check_taxonomy()
    tl, regions, reps = people(scale, seed)
    accounts = world.make_accounts(rng_for(seed, "accounts"), scale, tl, regions, reps)
    contacts = world.make_contacts(rng_for(seed, "contacts"), scale, accounts)
    step(f"simulated {reps.n:,} reps, {accounts.n:,} accounts, {contacts.n:,} contacts")
    plans = activity.make_plans(rng_for(seed, "plans"), tl, accounts, reps)
    items = activity.make_plan_items(rng_for(seed, "plan_items"), tl, accounts, reps, contacts,
                                     plans)
    inter = activity.make_interactions(rng_for(seed, "interactions"), scale.interactions, tl,
                                       accounts, reps, contacts, items)
    step(f"simulated {inter.n:,} interactions")
    att = stances.simulate_attitudes(rng_for(seed, "attitudes"), tl, contacts, inter)
    assessments = stances.make_assessments(rng_for(seed, "assessments"), tl, accounts, reps,
                                           contacts, att)
    competitors = stances.make_competitor_stances(rng_for(seed, "competitors"), tl, accounts,
                                                  contacts, att)
    support = stances.account_support(tl, accounts, contacts, att)
    opps = commerce.make_opportunities(rng_for(seed, "opportunities"), tl, accounts, reps,
                                       support)
    opp_contacts = commerce.make_opportunity_contacts(rng_for(seed, "opportunity_contacts"),
                                                      opps, contacts)
    payments = commerce.make_payments(rng_for(seed, "payments"), tl, opps)
    targets = commerce.make_targets(rng_for(seed, "targets"), tl, regions, accounts, reps, opps)
    strategies = service.make_strategies(rng_for(seed, "strategies"), tl, accounts, reps)
    complaints = service.make_complaints(rng_for(seed, "complaints"), tl, accounts, reps,
                                         contacts)
    feedback = service.make_feedback(rng_for(seed, "feedback"), tl, accounts, reps, contacts)
    surveys = service.make_surveys(rng_for(seed, "surveys"), tl, accounts, contacts, support,
                                   complaints)
    agreement, exclusive = account_flags(rng_for(seed, "flags"), accounts, inter)
    step("simulated attitudes, deals, plans and service")
    return World(scale, seed, tl, regions, reps, accounts, contacts, plans, items, inter, att,
                 assessments, competitors, opps, opp_contacts, payments, targets, strategies,
                 complaints, feedback, surveys, agreement, exclusive)
