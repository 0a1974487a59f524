#!/bin/bash
# Prepares the cluster while the student reads the intro.
kubectl create namespace staging
