#!/bin/bash
# placeholder: being written this session.
echo "not written yet"; exit 1
