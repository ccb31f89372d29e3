//! Model-based tests of the aggregates through their public `Aggregate` interface: random
//! sequences of commands (any order, duplicates, late arrivals, conflicting advices and
//! answers, repeated credits) and, after every step, the invariants a payment switch lives
//! by, checked against a small model of what has happened so far.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use proptest::prelude::*;
use serde_json::json;

use aggregates::payshap_transfer::{
    Completion, CompletionOutcome, PayShapCommand, PayShapEvent, PayShapTransfer,
};
use aggregates::values::{Amount, Currency, PartyId, TranId};
use aggregates::{
    AdviceKind, AuthorisationOutcome, DeliveryResult, Payment, PaymentCommand, PaymentEvent,
};

const TRAN_ID: &str = "0f8e6c1a2b3c4d5e6f708192a3b4c5d6";
/// The QR lives this long; the scan's hold window and the POS's wait are shorter.
const QR_LIFE_S: i64 = 300;
const HOLD_S: i64 = 30;
const POS_WAIT_S: i64 = 60;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
}

fn party(id: &str) -> PartyId {
    PartyId::parse(id).unwrap()
}

fn rand(cents: i64) -> Amount {
    Amount::new(cents, Currency::ZAR).unwrap()
}

/// Runs one command the way the command bus does: decide, then apply what was decided.
fn run<A: Aggregate<Services = ()>>(
    state: &mut A,
    command: A::Command,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<A::Event>, A::Error> {
    runtime.block_on(async {
        let sink = EventSink::default();
        state.handle(command, &(), &sink).await?;
        let events = sink.collect().await;
        for event in &events {
            state.apply(event.clone());
        }
        Ok(events)
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// One thing that may happen to a payment, seconds after the previous one.
#[derive(Debug, Clone)]
enum Step {
    Request {
        msg: u8,
        other_client: bool,
        cents: i64,
    },
    Scan {
        msg: u8,
        partner: u8,
    },
    StartAuthorisation,
    Answer {
        kind: u8,
    },
    TimeOut,
    Advise {
        id: u8,
        reversal: bool,
        wrong_request: bool,
    },
    Deliver {
        which: u8,
        acknowledged: bool,
    },
    Park {
        which: u8,
    },
    Unpark {
        which: u8,
    },
    Credit {
        uetr: u8,
        cents: i64,
    },
}

fn step() -> impl Strategy<Value = (u16, Step)> {
    let cents = prop_oneof![Just(1_000_i64), Just(2_000_i64)];
    // Weighted towards the paths that reach an authorisation, an advice and its delivery;
    // wrong clients, unknown deliveries and PayShap credits come now and then.
    let other_client = prop::bool::weighted(0.15);
    let step = prop_oneof![
        3 => (0..2_u8, other_client, cents.clone()).prop_map(|(msg, other_client, cents)| {
            Step::Request {
                msg,
                other_client,
                cents,
            }
        }),
        3 => (0..2_u8, 0..2_u8).prop_map(|(msg, partner)| Step::Scan { msg, partner }),
        3 => Just(Step::StartAuthorisation),
        3 => (0..3_u8).prop_map(|kind| Step::Answer { kind }),
        1 => Just(Step::TimeOut),
        3 => (0..3_u8, any::<bool>(), prop::bool::weighted(0.15)).prop_map(
            |(id, reversal, wrong_request)| Step::Advise {
                id,
                reversal,
                wrong_request,
            }
        ),
        3 => (0..3_u8, prop::bool::weighted(0.8)).prop_map(|(which, acknowledged)| {
            Step::Deliver {
                which,
                acknowledged,
            }
        }),
        1 => (0..3_u8).prop_map(|which| Step::Park { which }),
        1 => (0..3_u8).prop_map(|which| Step::Unpark { which }),
        1 => (0..2_u8, cents).prop_map(|(uetr, cents)| Step::Credit { uetr, cents }),
    ];
    // Mostly quick succession; sometimes long enough for a hold window or the QR to lapse.
    let gap = prop_oneof![8 => 0..10_u16, 1 => 10..400_u16];
    (gap, step)
}

/// What the model remembers of the history, to hold each new step against.
#[derive(Default)]
struct Model {
    claims: usize,
    outcomes: usize,
    completions: usize,
    credits: usize,
    requested: Option<Amount>,
    request_id: Option<String>,
    first_advice: Option<String>,
    scheduled: Vec<String>,
}

impl Model {
    /// Every invariant, after `events` were decided and applied to `state`.
    fn check(&mut self, state: &Payment, events: &[PaymentEvent], before: &Payment) {
        if before.outcome().is_some() {
            assert_eq!(
                state.outcome(),
                before.outcome(),
                "a final outcome never changes"
            );
        }
        if let Some(amount) = self.requested {
            let now = state.request().map(|r| r.amount);
            assert_eq!(
                now,
                Some(amount),
                "the amount never changes after the request"
            );
        }
        for event in events {
            self.note(event);
        }
        assert!(self.claims <= 1, "at most one authorisation claim");
        assert!(self.outcomes <= 1, "at most one final outcome");
        assert!(self.completions <= 1, "completed at most once");
        assert!(self.credits <= 1, "at most one PayShap credit applied");
    }

    fn note(&mut self, event: &PaymentEvent) {
        match event {
            PaymentEvent::AuthorisationRequested { .. } => self.claims += 1,
            PaymentEvent::Authorised { .. }
            | PaymentEvent::Declined { .. }
            | PaymentEvent::TimedOut { .. } => self.outcomes += 1,
            PaymentEvent::Completed { .. } => self.completions += 1,
            PaymentEvent::PayShapCredited { .. } => self.credits += 1,
            PaymentEvent::PaymentRequested {
                amount, message_id, ..
            } => {
                assert!(self.requested.is_none(), "one payment request");
                self.requested = Some(*amount);
                self.request_id = Some(message_id.clone());
            }
            PaymentEvent::Matched { amount, .. } => {
                assert_eq!(
                    Some(*amount),
                    self.requested,
                    "matched at the requested amount"
                );
            }
            PaymentEvent::Advised { advice_id, .. } => {
                self.first_advice.get_or_insert_with(|| advice_id.clone());
            }
            PaymentEvent::DeliveryScheduled { delivery_id, .. } => {
                let timeout_reversal = delivery_id.ends_with("-timeout-reversal");
                assert!(
                    timeout_reversal || Some(delivery_id) == self.first_advice.as_ref(),
                    "deliveries only for the first advice (or our timeout reversal): {delivery_id}"
                );
                assert!(
                    !self.scheduled.contains(delivery_id),
                    "{delivery_id} scheduled twice"
                );
                self.scheduled.push(delivery_id.clone());
            }
            _ => {}
        }
    }
}

fn command(step: &Step, at: DateTime<Utc>, model: &Model) -> PaymentCommand {
    let delivery = |which: u8| {
        model
            .scheduled
            .get(usize::from(which))
            .cloned()
            .unwrap_or_else(|| format!("no-such-delivery-{which}"))
    };
    match step.clone() {
        Step::Request {
            msg,
            other_client,
            cents,
        } => PaymentCommand::RequestPayment {
            message_id: format!("req-{msg}"),
            client_id: party(if other_client {
                "other-retailer"
            } else {
                "shop"
            }),
            amount: rand(cents),
            message: json!({ "id": format!("req-{msg}") }),
            received_at: at,
            respond_by: at + Duration::seconds(POS_WAIT_S),
            traceparent: None,
        },
        Step::Scan { msg, partner } => PaymentCommand::ReceiveScan {
            message_id: format!("scan-{msg}"),
            partner_id: party(if partner == 0 {
                "partner-a"
            } else {
                "partner-b"
            }),
            partner_payment_token: None,
            received_at: at,
            hold_until: at + Duration::seconds(HOLD_S),
        },
        Step::StartAuthorisation => PaymentCommand::StartAuthorisation { at },
        Step::Answer { kind } => PaymentCommand::RecordAuthorisation {
            outcome: match kind {
                0 => AuthorisationOutcome::Approved {
                    response: json!({ "approvalCode": "A1" }),
                },
                1 => AuthorisationOutcome::Declined {
                    error: json!({ "errorType": "DECLINED_BY_PARTNER" }),
                },
                _ => AuthorisationOutcome::Unknown {
                    reason: "no answer".to_owned(),
                },
            },
            at,
        },
        Step::TimeOut => PaymentCommand::TimeOut { at },
        Step::Advise {
            id,
            reversal,
            wrong_request,
        } => {
            let request_id = match (wrong_request, &model.request_id) {
                (false, Some(id)) => id.clone(),
                _ => "req-unknown".to_owned(),
            };
            PaymentCommand::Advise {
                advice_id: format!("adv-{id}"),
                advice: if reversal {
                    AdviceKind::Reversal {
                        reason: "CUSTOMER_CANCELLED".to_owned(),
                    }
                } else {
                    AdviceKind::Confirmation
                },
                request_id,
                client_id: Some(party("shop")),
                message: json!({ "id": format!("adv-{id}") }),
                received_at: at,
            }
        }
        Step::Deliver {
            which,
            acknowledged,
        } => PaymentCommand::RecordDelivery {
            delivery_id: delivery(which),
            result: if acknowledged {
                DeliveryResult::Acknowledged { status: 202 }
            } else {
                DeliveryResult::Refused {
                    status: 400,
                    reason: "refused".to_owned(),
                }
            },
            at,
        },
        Step::Park { which } => PaymentCommand::ParkDelivery {
            delivery_id: delivery(which),
            reason: "ops".to_owned(),
            at,
        },
        Step::Unpark { which } => PaymentCommand::UnparkDelivery {
            delivery_id: delivery(which),
            at,
        },
        Step::Credit { uetr, cents } => PaymentCommand::ReceivePayShapCredit {
            uetr: format!("uetr-{uetr}"),
            partner_id: party("payshap"),
            amount: rand(cents),
            at,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Whatever arrives in whatever order, a payment is claimed for authorisation at most
    /// once, gets at most one final outcome that never changes, keeps its requested
    /// amount, forwards only its first advice, and completes at most once.
    #[test]
    fn payment_invariants_hold_after_every_step(
        fixed_amount in any::<bool>(),
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let runtime = runtime();
        let mut state = Payment::default();
        let issue = PaymentCommand::IssueQr {
            message_id: "qr-1".to_owned(),
            tran_id: TranId::parse(TRAN_ID).unwrap(),
            client_id: party("shop"),
            terminal_id: "LANE0001".to_owned(),
            amount: fixed_amount.then(|| rand(1_000)),
            scheme: "EMVCO_MERCHANT".to_owned(),
            payload: "000201".to_owned(),
            merchant_name: None,
            issued_at: start(),
            expires_at: start() + Duration::seconds(QR_LIFE_S),
        };
        run(&mut state, issue, &runtime).unwrap();
        let mut model = Model::default();
        let mut at = start();
        for (gap, step) in &steps {
            at += Duration::seconds(i64::from(*gap));
            let before = state.clone();
            let command = command(step, at, &model);
            match run(&mut state, command, &runtime) {
                Ok(events) => model.check(&state, &events, &before),
                // A refusal changes nothing.
                Err(_) => prop_assert_eq!(&state, &before),
            }
        }
    }

    /// Redelivered, reordered and contradicting completions credit a transfer at most
    /// once, and only after an APPROVED one; a contradiction is recorded, never applied.
    #[test]
    fn payshap_transfer_credits_at_most_once(
        messages in prop::collection::vec((0..4_u8, 0..4_u8), 1..30),
    ) {
        let runtime = runtime();
        let mut state = PayShapTransfer::default();
        let mut credits = 0;
        let mut approved_seen = false;
        let mut first_final: Option<CompletionOutcome> = None;
        for (message, outcome) in messages {
            let outcome = [
                CompletionOutcome::Approved,
                CompletionOutcome::Rejected,
                CompletionOutcome::Cancelled,
                CompletionOutcome::Pending,
            ][usize::from(outcome)];
            let completion = Completion {
                message_id: format!("msg-{message}-{}", outcome.as_str()),
                uetr: "uetr-1".to_owned(),
                end_to_end_id: None,
                outcome,
                reasons: Vec::new(),
                amount: rand(1_000),
                proxy_id: None,
                proxy_known: true,
                tran_id: None,
                debtor_name: None,
                received_at: start(),
                debtor_account: None,
                debtor_agent: None,
                debtor_proxy: None,
                original_created_at: None,
            };
            let command = PayShapCommand::RecordCompletion { completion, authorisation_required: false };
            let events = run(&mut state, command, &runtime)
                .unwrap();
            if outcome.is_final() && !events.is_empty() {
                first_final.get_or_insert(outcome);
            }
            approved_seen |= outcome == CompletionOutcome::Approved && !events.is_empty();
            for event in &events {
                if let PayShapEvent::Credited { .. } = event {
                    credits += 1;
                    prop_assert!(approved_seen, "credited only on an APPROVED completion");
                    prop_assert_eq!(first_final, Some(CompletionOutcome::Approved));
                }
            }
            prop_assert!(credits <= 1, "credited at most once");
            prop_assert_eq!(state.is_credited(), credits == 1);
        }
    }
}
