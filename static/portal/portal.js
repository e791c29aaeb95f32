// Portal behaviour: written for this project; loaded from a file so no inline script is needed.
