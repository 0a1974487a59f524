#!/bin/bash
test "$(kubectl -n shop get deploy shop -o jsonpath='{.spec.replicas}')" = 3
