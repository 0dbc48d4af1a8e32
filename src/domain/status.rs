//! The order state machine: statuses, the actions that move them, and which action is allowed
//! from which status. Every state change in the database is conditional on `from_states`
//! (the store builds its `status IN (…)` lists from it), so two racing changes (a payment, a
//! cancel and the timeout task on one order) give exactly one winner.

/// Order status codes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 1 待付款
    PendingPayment = 1,
    /// 2 待接单
    AwaitingAcceptance = 2,
    /// 3 已接单
    Accepted = 3,
    /// 4 派送中
    Delivering = 4,
    /// 5 已完成
    Completed = 5,
    /// 6 已取消
    Cancelled = 6,
}

impl Status {
    /// Parses a status code; `None` for anything else.
    pub fn from_code(code: i64) -> Option<Status> {
        use Status::*;
        Some(match code {
            1 => PendingPayment,
            2 => AwaitingAcceptance,
            3 => Accepted,
            4 => Delivering,
            5 => Completed,
            6 => Cancelled,
            _ => return None,
        })
    }

    /// The wire code.
    pub fn code(self) -> i64 {
        self as i64
    }
}

/// Payment status codes of the contract (`pay_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayStatus {
    /// 0 未支付
    Unpaid = 0,
    /// 1 已支付
    Paid = 1,
    /// 2 退款
    Refunded = 2,
}

impl PayStatus {
    /// The wire code.
    pub fn code(self) -> i64 {
        self as i64
    }
}

/// Something that may change an order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Payment succeeded.
    Pay,
    /// Merchant accepts (接单).
    Confirm,
    /// Merchant rejects (拒单); refunds.
    Reject,
    /// Customer cancels; refunds if paid.
    CustomerCancel,
    /// Merchant cancels; refunds if paid.
    MerchantCancel,
    /// Merchant sends it out.
    Deliver,
    /// Delivered (by the merchant or the daily task).
    Complete,
    /// Unpaid for too long.
    PaymentTimeout,
}

impl Action {
    /// True when the action ends the wait for the merchant, so the order's alerts are handled.
    pub fn handles_alerts(self) -> bool {
        matches!(
            self,
            Action::Confirm | Action::Reject | Action::CustomerCancel | Action::MerchantCancel
        )
    }
}

/// Statuses from which `action` is allowed.
pub fn from_states(action: Action) -> &'static [Status] {
    use Status::*;
    match action {
        Action::Pay | Action::PaymentTimeout => &[PendingPayment],
        Action::Confirm | Action::Reject => &[AwaitingAcceptance],
        Action::CustomerCancel => &[PendingPayment, AwaitingAcceptance],
        Action::MerchantCancel => &[PendingPayment, AwaitingAcceptance, Accepted, Delivering],
        Action::Deliver => &[Accepted],
        Action::Complete => &[Delivering],
    }
}

/// The status after `action`.
pub fn target(action: Action) -> Status {
    use Status::*;
    match action {
        Action::Pay => AwaitingAcceptance,
        Action::Confirm => Accepted,
        Action::Reject
        | Action::CustomerCancel
        | Action::MerchantCancel
        | Action::PaymentTimeout => Cancelled,
        Action::Deliver => Delivering,
        Action::Complete => Completed,
    }
}

/// The status after `action` from `current`, or `None` when the action is not allowed.
pub fn next(current: Status, action: Action) -> Option<Status> {
    from_states(action)
        .contains(&current)
        .then(|| target(action))
}

/// Statuses in which a customer may remind the merchant: the merchant still owes something.
pub const REMINDABLE: &[Status] = &[
    Status::AwaitingAcceptance,
    Status::Accepted,
    Status::Delivering,
];

/// True when a customer may remind the merchant about an order in this status.
pub fn can_remind(current: Status) -> bool {
    REMINDABLE.contains(&current)
}

#[cfg(test)]
mod tests {
    use super::Action::*;
    use super::Status::*;
    use super::*;

    const ALL: [Status; 6] = [
        PendingPayment,
        AwaitingAcceptance,
        Accepted,
        Delivering,
        Completed,
        Cancelled,
    ];

    /// The whole table: (from, action, expected).
    #[test]
    fn transition_table() {
        let table: &[(Action, [Option<Status>; 6])] = &[
            (
                Pay,
                [Some(AwaitingAcceptance), None, None, None, None, None],
            ),
            (Confirm, [None, Some(Accepted), None, None, None, None]),
            (Reject, [None, Some(Cancelled), None, None, None, None]),
            (
                CustomerCancel,
                [Some(Cancelled), Some(Cancelled), None, None, None, None],
            ),
            (
                MerchantCancel,
                [
                    Some(Cancelled),
                    Some(Cancelled),
                    Some(Cancelled),
                    Some(Cancelled),
                    None,
                    None,
                ],
            ),
            (Deliver, [None, None, Some(Delivering), None, None, None]),
            (Complete, [None, None, None, Some(Completed), None, None]),
            (
                PaymentTimeout,
                [Some(Cancelled), None, None, None, None, None],
            ),
        ];
        for (action, expected) in table {
            for (from, want) in ALL.iter().zip(expected) {
                assert_eq!(next(*from, *action), *want, "{from:?} --{action:?}-->");
            }
        }
    }

    #[test]
    fn finished_orders_never_move() {
        for action in [
            Pay,
            Confirm,
            Reject,
            CustomerCancel,
            MerchantCancel,
            Deliver,
            Complete,
            PaymentTimeout,
        ] {
            assert_eq!(next(Completed, action), None);
            assert_eq!(next(Cancelled, action), None);
        }
    }

    #[test]
    fn codes_round_trip_and_reject_unknown() {
        for s in ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        for bad in [0, 7, -1, i64::MAX] {
            assert_eq!(Status::from_code(bad), None);
        }
    }

    #[test]
    fn reminders_only_while_the_merchant_owes_something() {
        let ok: Vec<_> = ALL.into_iter().filter(|s| can_remind(*s)).collect();
        assert_eq!(ok, vec![AwaitingAcceptance, Accepted, Delivering]);
    }

    #[test]
    fn accepting_rejecting_and_cancelling_handle_alerts() {
        let handling: Vec<_> = [
            Pay,
            Confirm,
            Reject,
            CustomerCancel,
            MerchantCancel,
            Deliver,
            Complete,
            PaymentTimeout,
        ]
        .into_iter()
        .filter(|a| a.handles_alerts())
        .collect();
        assert_eq!(
            handling,
            vec![Confirm, Reject, CustomerCancel, MerchantCancel]
        );
    }
}
