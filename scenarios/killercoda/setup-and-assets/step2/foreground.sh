#!/bin/bash
echo "The Service manifest is in /root/assets:"
ls /root/assets
