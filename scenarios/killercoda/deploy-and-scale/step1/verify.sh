#!/bin/bash
set -e
image=$(kubectl get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}')
[[ "$image" == nginx* ]]
