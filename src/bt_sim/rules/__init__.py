"""Pure, vectorised rules: functions of arrays and a random generator, no model state.

Each module holds the rules of one mechanism: :mod:`social` (exposure and the adoption rule
family), :mod:`mastery` (KPIs and plan-do-check-act), :mod:`collective` (recruitment and
dialogue) and :mod:`hub` (consent and k-anonymous aggregation).
"""
