#!/bin/bash
set -e
kubectl get service web -o jsonpath='{.spec.type}' | grep -qx NodePort
n=$(kubectl get endpoints web -o jsonpath='{.subsets[*].addresses[*].ip}' | wc -w)
[ "$n" -eq 3 ]
