"""Lists decided by the government (政府研究确定): the draft list and its public comment period
(征求意见), the government's answers, and the adopting meeting's record (DOMAIN.md)."""
