#!/bin/bash
echo "Preparing the environment..."
while [ ! -f /tmp/.setup-finished ]; do sleep 1; done
echo "Environment ready: $(cat /opt/course/1/notes.txt)"
