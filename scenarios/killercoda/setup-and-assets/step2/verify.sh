#!/bin/bash
# The asset's own checker, installed under /usr/local/bin by the scenario.
check-shop
