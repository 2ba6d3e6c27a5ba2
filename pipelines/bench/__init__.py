"""Benchmarks (`make bench`): the nightly at national scale, the dashboard's pages, funder suppression."""
