#!/bin/bash
# Katacoda's background setup: the namespace, the shop's Deployment from the assets, and
# notes for the student under /opt.
kubectl create namespace shop
kubectl apply -n shop -f /root/assets/shop.yaml
mkdir -p /opt/course/1
echo "shop has 1 replica; the team wants 3" > /opt/course/1/notes.txt
touch /tmp/.setup-finished
