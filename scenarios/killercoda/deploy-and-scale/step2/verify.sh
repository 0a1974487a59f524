#!/bin/bash
ready=$(kubectl get deployment web -o jsonpath='{.status.readyReplicas}')
if [ "$ready" != "3" ]; then
  echo "web has ${ready:-0} ready replicas, not 3"
  exit 1
fi
