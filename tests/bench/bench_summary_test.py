#!/usr/bin/env python3
"""Tests of bench_summary.py's median interval and its settle rule: the
suite stops adding rounds on them and the docs report them."""

import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_summary  # noqa: E402


def coverage(n, k):
    """The chance that [k-th smallest, k-th largest] of n draws holds the
    true median: 1 - 2 P(Binomial(n, 1/2) <= k - 1)."""
    return 1 - 2 * sum(math.comb(n, j) for j in range(k)) / 2**n


class MedianIntervalTest(unittest.TestCase):

    def test_too_few_rounds_have_no_interval(self):
        # Even min-max of 5 rounds misses the median with chance 2/32.
        self.assertIsNone(bench_summary.median_interval([1.0] * 5))
        self.assertIsNone(bench_summary.median_interval([]))

    def test_six_rounds_give_min_and_max(self):
        self.assertEqual(
            bench_summary.median_interval([0.9, 1.3, 1.0, 1.1, 0.8, 1.2]),
            (0.8, 1.3))

    def test_twenty_one_rounds_give_sixth_from_each_end(self):
        values = [i / 100 for i in range(21)]
        values.reverse()  # the order of the rounds does not matter
        self.assertEqual(bench_summary.median_interval(values),
                         (0.05, 0.15))

    def test_interval_is_the_narrowest_with_95_percent_coverage(self):
        for n in range(6, 80):
            low, high = bench_summary.median_interval(list(range(n)))
            k = low + 1  # values are 0..n-1, so the k-th smallest is k-1
            self.assertEqual(high, n - k, n)
            self.assertGreaterEqual(coverage(n, k), 0.95, n)
            self.assertLess(coverage(n, k + 1), 0.95, n)

    def test_interval_narrows_as_rounds_are_added_where_min_max_widens(self):
        # The same spread of rounds, repeated: min-max stays the whole range,
        # the median's interval closes in on the middle.
        pattern = [0.91, 0.97, 0.98, 0.99, 1.0, 1.01, 1.06]
        low7, high7 = bench_summary.median_interval(pattern)
        low21, high21 = bench_summary.median_interval(pattern * 3)
        self.assertEqual((low7, high7), (0.91, 1.06))
        self.assertGreater(low21, low7)
        self.assertLess(high21, high7)


class SettledTest(unittest.TestCase):
    GOAL = (">=", 0.95)

    def test_interval_above_the_goal_settles(self):
        self.assertTrue(bench_summary.settled([0.96, 0.97, 0.98, 0.99, 1.0,
                                               1.01, 1.02], self.GOAL))

    def test_interval_below_the_goal_settles_too(self):
        self.assertTrue(bench_summary.settled([0.4, 0.41, 0.42, 0.43, 0.44,
                                               0.45, 0.46], (">=", 0.5)))

    def test_interval_holding_the_goal_does_not_settle(self):
        # Seven rounds: the interval is min-max, and 0.91 is below 0.95.
        self.assertFalse(bench_summary.settled(
            [0.91, 0.97, 0.98, 0.99, 1.0, 1.01, 1.06], self.GOAL))

    def test_more_of_the_same_rounds_settle_it(self):
        self.assertTrue(bench_summary.settled(
            [0.91, 0.97, 0.98, 0.99, 1.0, 1.01, 1.06] * 3, self.GOAL))

    def test_too_few_rounds_never_settle(self):
        self.assertFalse(bench_summary.settled([2.0] * 5, self.GOAL))

    def test_without_a_goal_the_bound_is_one(self):
        self.assertTrue(bench_summary.settled([1.1] * 6, None))
        self.assertFalse(bench_summary.settled([0.9, 1.1] * 3, None))


if __name__ == "__main__":
    unittest.main()
