"""Pure sentences from parsed data: run (the walkthrough: ARP, ICMP, ping) and trace (hop by hop)."""
